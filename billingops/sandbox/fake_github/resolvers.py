"""The fake GitHub's state as GraphQL field resolvers, for executing a document against
GitHub's published schema (`strict.GitHubDescriptions`): only the fields a document asks
for come back, and the schema's types serialize them (an `Int` past 2**31 is a field error,
as on GitHub).

A value here is a plain dict per object; a callable value is a field with arguments
(graphql-core's default resolver calls it with `info` and the arguments). Abstract types
(`Actor`) are resolved by the `__typename` key. What GitHub does and this follows:

- missing repository or issue: that field is null with a `NOT_FOUND` error naming it;
- a repository the token cannot see is the same as a missing one (GitHub does not say
  which), and in a query with several roots only that root is null;
- connections need `first` or `last`, at most 100 (`MISSING_PAGINATION_BOUNDARIES`,
  `EXCESSIVE_PAGINATION`);
- a `Bot` is named without `[bot]`, while `viewer` keeps it (an installation token);
- `lastEditedAt` and `editor` stay null until the body is edited.

No graphql-core import at module level: the demo runs without it."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from billingops.sandbox.fake_github.state import _Comment, _Issue, _Repo

if TYPE_CHECKING:
    from billingops.sandbox.fake_github.state import FakeState as FakeGitHub

Node = dict[str, Any]
MAX_PAGE = 100


class FieldError(Exception):
    """A field error with GitHub's `type` (the caller turns it into a GraphQLError)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def root(fake: FakeGitHub, raise_error: Callable[[FieldError], Exception]) -> Node:
    """The query root over `fake`'s state (read under its lock by the caller)."""

    def fail(kind: str, message: str) -> Exception:
        return raise_error(FieldError(kind, message))

    def repository(info: Any, owner: str, name: str, **_: Any) -> Node:
        repo = fake._repos.get(f"{owner}/{name}".lower())
        if repo is None or not repo.accessible:
            raise fail(
                "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'."
            )
        return _repository(fake, repo, fail)

    return {
        "viewer": lambda info: {"__typename": "User", "login": fake.actor, "id": "U_fake"},
        "repository": repository,
    }


def _repository(fake: FakeGitHub, repo: _Repo, fail: Callable[[str, str], Exception]) -> Node:
    def issue(info: Any, number: int) -> Node:
        found = repo.issues.get(number)
        if found is None or found.deleted or found.pull_request:
            raise fail("NOT_FOUND", f"Could not resolve to an Issue with the number of {number}.")
        return _issue(fake, repo, found, fail)

    def issues(info: Any, **args: Any) -> Node:
        labels = {x.lower() for x in args.get("labels") or []}
        states = set(args.get("states") or ["OPEN", "CLOSED"])
        found = [
            i
            for i in repo.issues.values()
            if not i.deleted
            and not i.pull_request
            and i.state.upper() in states
            and (not labels or labels & {n.lower() for n in i.labels})
        ]
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        key = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at"}.get(order["field"])
        found.sort(
            key=lambda i: (getattr(i, key) if key else "", i.number),
            reverse=order.get("direction") == "DESC",
        )
        return connection("issues", [_issue(fake, repo, i, fail) for i in found], args, fail)

    name = repo.full_name.split("/")[1]
    return {
        "__typename": "Repository",
        "id": _node("Repository", repo.full_name),
        "name": name,
        "nameWithOwner": repo.full_name,
        "isPrivate": repo.visibility != "public",
        "visibility": repo.visibility.upper(),
        "url": f"{fake.html_base}/{repo.full_name}",
        "issue": issue,
        "issues": issues,
    }


def _issue(
    fake: FakeGitHub, repo: _Repo, issue: _Issue, fail: Callable[[str, str], Exception]
) -> Node:
    def comments(info: Any, **args: Any) -> Node:
        nodes = [_comment(fake, repo, fake._comments[c]) for c in issue.comments]
        return connection("comments", nodes, args, fail)

    def labels(info: Any, **args: Any) -> Node:
        nodes = [
            {
                "__typename": "Label",
                "name": label.name,
                "color": label.color,
                "id": _node("Label", label.id),
            }
            for label in (repo.labels[n.lower()] for n in issue.labels)
        ]
        return connection("labels", nodes, args, fail)

    return {
        "__typename": "Issue",
        "id": _node("Issue", issue.id),
        "databaseId": issue.id,  # an Int: past 2**31 it is a field error, as on GitHub
        "fullDatabaseId": str(issue.id),
        "number": issue.number,
        "title": issue.title,
        "body": issue.body or "",
        "state": issue.state.upper(),
        "stateReason": (issue.state_reason or "").upper() or None,
        "createdAt": issue.created_at,
        "updatedAt": issue.updated_at,
        "closedAt": issue.closed_at,
        "closed": issue.state == "closed",
        "lastEditedAt": issue.last_edited_at,
        "url": f"{fake.html_base}/{repo.full_name}/issues/{issue.number}",
        "author": actor(fake, issue.author),
        "editor": actor(fake, issue.editor) if issue.last_edited_at else None,
        "comments": comments,
        "labels": labels,
    }


def _comment(fake: FakeGitHub, repo: _Repo, c: _Comment) -> Node:
    return {
        "__typename": "IssueComment",
        "id": _node("IssueComment", c.id),
        "databaseId": c.id,  # an Int: today's comment ids do not fit (a field error)
        "fullDatabaseId": str(c.id),  # BigInt, sent as a string
        "body": c.body,
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
        "lastEditedAt": c.last_edited_at,
        "url": f"{fake.html_base}/{repo.full_name}/issues/{c.issue}#issuecomment-{c.id}",
        "author": actor(fake, c.author),
        "editor": actor(fake, c.editor) if c.last_edited_at else None,
    }


def actor(fake: FakeGitHub, login: str | None) -> Node | None:
    """GraphQL names a bot without the `[bot]` that REST shows."""
    if login is None:
        return None
    kind = fake._users.get(login) or ("Bot" if login.endswith("[bot]") else "User")
    return {"__typename": kind, "login": login.removesuffix("[bot]")}


def connection(
    name: str, items: list[Node], args: dict[str, Any], fail: Callable[[str, str], Exception]
) -> Node:
    """A GitHub connection: `first`/`last` required and at most 100; opaque cursors."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise fail(
            "MISSING_PAGINATION_BOUNDARIES",
            f"You must provide a `first` or `last` value to properly paginate the `{name}` "
            "connection.",
        )
    for arg, value in (("first", first), ("last", last)):
        if value is not None and value > MAX_PAGE:
            raise fail(
                "EXCESSIVE_PAGINATION",
                f"Requesting {value} records on the `{name}` connection exceeds the `{arg}` "
                f"limit of {MAX_PAGE} records.",
            )
    start, end = 0, len(items)
    if args.get("after"):
        start = _cursor_index(args["after"], fail) + 1
    if args.get("before"):
        end = min(end, _cursor_index(args["before"], fail))
    window = list(range(start, max(start, end)))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[-last:] if last else []
    nodes = [items[i] for i in window]
    return {
        "totalCount": len(items),
        "nodes": nodes,
        "edges": [{"cursor": _cursor(i), "node": items[i]} for i in window],
        "pageInfo": {
            "hasNextPage": bool(window) and window[-1] + 1 < end,
            "hasPreviousPage": bool(window) and window[0] > 0,
            "startCursor": _cursor(window[0]) if window else None,
            "endCursor": _cursor(window[-1]) if window else None,
        },
    }


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _cursor_index(cursor: str, fail: Callable[[str, str], Exception]) -> int:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        return int(text.removeprefix("cursor:v2:"))
    except ValueError:
        raise fail(
            "INVALID_CURSOR_ARGUMENTS", f"`{cursor}` does not appear to be a valid cursor."
        ) from None


def _node(kind: str, ident: object) -> str:
    return base64.b64encode(f"{kind}:{ident}".encode()).decode().rstrip("=")
