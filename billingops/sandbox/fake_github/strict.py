"""The fake GitHub held to GitHub's published descriptions (SPEC §5c, §8).

`GitHubDescriptions` is built by the test set-up (tests/plugins/github_descriptions.py)
from the publishers' own files: the GraphQL schema of the npm package
`@octokit/graphql-schema` and the `paths` of the REST description in `@octokit/openapi`
(docs/TESTED-AGAINST.md has the versions). Handed to `FakeGitHub(strict=...)`:

- every GraphQL document is validated against the schema (a document GitHub would reject
  is answered with the validation errors, as GitHub does, and recorded as a violation),
  then executed against the schema over the fake's state (`resolvers.root`): only the
  fields asked for come back, scalars serialize as the schema types them;
- every REST request is matched against the description's path templates and methods: a
  route GitHub does not have is answered 404 and recorded as a violation.

Violations are kept here (`take_violations`) so a test's teardown can fail the test even
when the code under test swallowed the error. graphql-core is a test dependency only; the
demo and the sandbox run without this module.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import billingops.sandbox.fake_github.resolvers as resolvers

if TYPE_CHECKING:
    from graphql import GraphQLSchema

    from billingops.sandbox.fake_github.state import FakeState as FakeGitHub

Json = Any


def load_schema(sdl_path: Path) -> GraphQLSchema:
    """GitHub's schema, built once. The SDL is taken as GitHub publishes it
    (`assume_valid_sdl`): it defines two `EnterpriseOwnerInfo` fields twice, which strict
    SDL validation refuses; the last definition wins, as in GitHub's own introspection."""
    from graphql import build_ast_schema, parse

    document = parse(sdl_path.read_text(encoding="utf-8"), no_location=True)
    return build_ast_schema(document, assume_valid_sdl=True)


def routes_from_openapi(description: Json) -> dict[str, list[str]]:
    """path template -> upper-case methods, from an OpenAPI description's `paths`."""
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return {
        path: sorted(m.upper() for m in item if m in methods)
        for path, item in (description.get("paths") or {}).items()
    }


class GitHubDescriptions:
    """GitHub's GraphQL schema and REST routes, and the violations seen against them."""

    def __init__(
        self, schema: GraphQLSchema, routes: dict[str, list[str]], *, source: str = ""
    ) -> None:
        self.schema = schema
        self.source = source  # e.g. "@octokit/graphql-schema 15.26.1, @octokit/openapi 23.0.2"
        self._routes = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + "$"), t, set(ms))
            for t, ms in routes.items()
        ]
        self._lock = threading.Lock()
        self._violations: list[str] = []

    @classmethod
    def from_files(
        cls, schema_sdl: Path, routes_json: Path, *, source: str = ""
    ) -> GitHubDescriptions:
        routes = json.loads(routes_json.read_text(encoding="utf-8"))
        return cls(load_schema(schema_sdl), routes, source=source)

    # -- violations -----------------------------------------------------------------

    def violation(self, text: str) -> None:
        with self._lock:
            self._violations.append(text)

    def take_violations(self) -> list[str]:
        """The violations since the last call (and forget them)."""
        with self._lock:
            taken, self._violations = self._violations, []
            return taken

    # -- REST -----------------------------------------------------------------------

    def rest_template(self, method: str, path: str) -> str | None:
        """The description's path template for this request, or None (and a violation)
        when GitHub has no such route or not with this method."""
        templates = [(t, ms) for rx, t, ms in self._routes if rx.match(path)]
        for template, ms in templates:
            if method.upper() in ms:
                return template
        if templates:
            allowed = sorted({m for _, ms in templates for m in ms})
            self.violation(
                f"REST {method} {path}: GitHub's description has {templates[0][0]} with "
                f"{', '.join(allowed)} only"
            )
        else:
            self.violation(f"REST {method} {path}: no such route in GitHub's REST description")
        return None

    # -- GraphQL --------------------------------------------------------------------

    def execute(self, fake: FakeGitHub, payload: Json) -> Json:
        """One GraphQL request as GitHub answers it (the caller holds the fake's lock)."""
        from graphql import ExecutionResult, GraphQLError, execute, parse, validate
        from graphql.error import GraphQLSyntaxError

        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            self.violation("GraphQL: a request without a query string")
            return {
                "errors": [{"message": "A query attribute must be specified and must be a string."}]
            }
        query = payload["query"]
        try:
            document = parse(query)
        except GraphQLSyntaxError as e:
            self.violation(f"GraphQL: syntax error: {e.message}")
            return {"errors": [_formatted(e)]}
        problems = validate(self.schema, document)
        if problems:
            for p in problems:
                self.violation(f"GraphQL: {p.message}")
            return {"errors": [_formatted(p) for p in problems]}

        def raise_error(error: resolvers.FieldError) -> Exception:
            return GraphQLError(error.message, extensions={"type": error.kind})

        result = execute(
            self.schema,
            document,
            root_value=resolvers.root(fake, raise_error),
            variable_values=payload.get("variables") or {},
            operation_name=payload.get("operationName"),
        )
        if not isinstance(result, ExecutionResult):  # pragma: no cover
            raise TypeError("the fake GitHub's resolvers are synchronous")
        answer: dict[str, Any] = {}
        if result.errors:
            answer["errors"] = [_formatted(e) for e in result.errors]
            if result.data is None and all(e.path is None for e in result.errors):
                return answer  # a request error (e.g. a bad variable): no data key
        answer["data"] = result.data
        return answer


def _formatted(error: Any) -> Json:
    """A GraphQLError as GitHub sends it: `type` (NOT_FOUND ...) at the top level."""
    data = dict(error.formatted)
    extensions = dict(data.pop("extensions", None) or {})
    kind = extensions.pop("type", None)
    if kind:
        data["type"] = kind
    if extensions:
        data["extensions"] = extensions
    return data


__all__ = ["GitHubDescriptions", "load_schema", "routes_from_openapi"]
