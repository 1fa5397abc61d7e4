"""GraphQL of the fake GitHub without the published schema (the demo and the sandbox,
which must run without the test-only descriptions): the two queries billingops sends,
answered by hand in GitHub's shapes. Under test, `strict.GitHubDescriptions` executes every
document against GitHub's published schema instead, over `resolvers.root`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from billingops.sandbox.fake_github.state import Json, _Comment

if TYPE_CHECKING:
    from billingops.sandbox.fake_github.state import FakeState as FakeGitHub


def answer(fake: FakeGitHub, payload: Json) -> Json:
    """The two queries billingops sends (by operation name; the thread with up to two
    listing roots), answered as GitHub does."""
    query = str((payload or {}).get("query", ""))
    variables = (payload or {}).get("variables") or {}
    viewer = {"login": fake.actor}  # GitHub names an installation `<app>[bot]` here
    if "billingopsViewer" in query:
        return {"data": {"viewer": viewer}}
    if "billingopsThread" not in query:
        return {"errors": [{"message": "unsupported query (fake GitHub)"}]}
    repo = fake._repos.get(f"{variables.get('owner')}/{variables.get('name')}".lower())
    repo = repo if repo is not None and repo.accessible else None
    issue = repo.issues.get(int(variables.get("number") or 0)) if repo else None
    if repo is None or issue is None or issue.deleted:
        return {
            "data": {"viewer": viewer, "repository": None if repo is None else {"issue": None}},
            "errors": [{"type": "NOT_FOUND", "message": "Could not resolve to an Issue"}],
        }
    extra: dict[str, Any] = {}
    errors: list[Json] = []
    for alias in ("listing", "extra"):  # the listing roots, each under its own alias
        if f"{alias}Owner" not in variables:
            continue
        full_name = f"{variables[f'{alias}Owner']}/{variables[f'{alias}Name']}"
        extra[alias] = graphql_listing(fake, full_name, str(variables[f"{alias}Label"]))
        if extra[alias] is None:  # that root alone fails, as on GitHub
            message = f"Could not resolve to a Repository with the name '{full_name}'."
            errors.append({"type": "NOT_FOUND", "path": [alias], "message": message})
    start = int(variables.get("after") or 0)
    ids = issue.comments[start : start + 100]
    nodes = [graphql_comment(fake, fake._comments[i]) for i in ids]
    more = start + 100 < len(issue.comments)
    answer: Json = {
        "data": {
            "viewer": viewer,
            **extra,
            "repository": {
                "issue": {
                    "lastEditedAt": issue.last_edited_at,
                    "comments": {
                        "pageInfo": {
                            "hasNextPage": more,
                            "endCursor": str(start + 100) if more else None,
                        },
                        "nodes": nodes,
                    },
                }
            },
        }
    }
    if errors:
        answer["errors"] = errors
    return answer


def graphql_listing(fake: FakeGitHub, full_name: str, label: str) -> Json:
    repo = fake._repos.get(full_name.lower())
    if repo is None or not repo.accessible:
        return None
    found = sorted(
        (
            i
            for i in repo.issues.values()
            if not i.deleted
            and not i.pull_request
            and label.lower() in {n.lower() for n in i.labels}
        ),
        key=lambda i: (i.created_at, i.number),
    )
    nodes = [
        {
            "number": i.number,
            "title": i.title,
            "body": i.body or "",
            "state": i.state.upper(),
            "createdAt": i.created_at,
            "closedAt": i.closed_at,
            "url": f"{fake.html_base}/{repo.full_name}/issues/{i.number}",
            "author": graphql_actor(fake, i.author),
            "labels": {"nodes": [{"name": n} for n in i.labels]},
        }
        for i in found[:100]
    ]
    return {
        "visibility": repo.visibility.upper(),  # GraphQL RepositoryVisibility
        "issues": {"pageInfo": {"hasNextPage": len(found) > 100}, "nodes": nodes},
    }


def graphql_actor(fake: FakeGitHub, login: str | None) -> Json:
    if login is None:
        return None
    kind = fake._users.get(login) or ("Bot" if login.endswith("[bot]") else "User")
    # GraphQL names a bot without the `[bot]` that REST shows.
    return {"__typename": kind, "login": login.removesuffix("[bot]")}


def graphql_comment(fake: FakeGitHub, c: _Comment) -> Json:
    return {
        "fullDatabaseId": str(c.id),  # a BigInt, sent as a string
        "body": c.body,
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
        "lastEditedAt": c.last_edited_at,
        "author": graphql_actor(fake, c.author),
        "editor": graphql_actor(fake, c.editor),
    }
