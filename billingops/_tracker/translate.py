"""GitHub's JSON (REST and GraphQL) -> our models, and the GraphQL queries billingops
sends. Pure: no request here; the gateway's parts (`reads`, `writes`, `probes`) do the I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from billingops.models.issue import Comment, IssueSnapshot, LabelEvent

# One read of the thread (SPEC §5a): who the token acts as (`viewer`: REST `GET /user`
# answers an installation token 403), when the ticket was last edited, and every comment
# with its author and last editor (REST does not say who edited a comment). A comment's id
# is `fullDatabaseId` (a BigInt, sent as a string): `databaseId` is a 32-bit Int, and
# comment ids have been past 2**31 since 2024 (SPEC §5c).
_THREAD = """query billingopsThread(
  $owner: String!, $name: String!, $number: Int!, $after: String%s
) {
  viewer { login }%s
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      lastEditedAt
      comments(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          fullDatabaseId body createdAt updatedAt lastEditedAt
          author { __typename login }
          editor { __typename login }
        }
      }
    }
  }
}"""
# The product-gap backlog, read in the same request (SPEC §8: one round trip for both),
# with its visibility: nothing written to a public backlog carries an amount or an email
# (SPEC §5b), and asking here costs no request of its own.
# Its own root (`listing`): a backlog the token cannot see fails that root alone (SPEC §5c).
# A second listing (`extra`: in public mode the private desk's handoff issues) is the same
# root under its own alias and variables.
_LISTING = """
  listing: repository(owner: $listingOwner, name: $listingName) {
    visibility
    issues(
      first: 100, labels: [$listingLabel], states: [OPEN, CLOSED],
      orderBy: {field: CREATED_AT, direction: ASC}
    ) {
      pageInfo { hasNextPage }
      nodes {
        number title body state createdAt closedAt url
        author { __typename login }
        labels(first: 100) { nodes { name } }
      }
    }
  }"""


def thread_query(*listings: str) -> str:
    """The thread read with a listing root per alias (`listing`, `extra`), in that order."""
    variables = "".join(
        f", ${a}Owner: String!, ${a}Name: String!, ${a}Label: String!" for a in listings
    )
    return _THREAD % (variables, "".join(_LISTING.replace("listing", a) for a in listings))


THREAD_QUERY = thread_query()
THREAD_AND_LISTING_QUERY = thread_query("listing")
# Public mode's first read (issue 22): the public thread, the gap backlog and the private
# desk's handoff issues, one request.
THREAD_AND_LISTINGS_QUERY = thread_query("listing", "extra")
VIEWER_QUERY = "query billingopsViewer { viewer { login } }"


def ts(value: Any) -> int:
    if not value:
        return 0
    return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())


def login(user: Any) -> str:
    return str(user.get("login", "")) if isinstance(user, dict) else ""


def user_id(user: Any) -> int | None:
    """A user's numeric account id (a Python int: GitHub ids exceed 2**31)."""
    value = user.get("id") if isinstance(user, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def issue(data: dict[str, Any]) -> IssueSnapshot:
    return IssueSnapshot(
        number=int(data["number"]),
        title=data.get("title") or "",
        body=data.get("body") or "",
        author=login(data.get("user")),
        author_id=user_id(data.get("user")),
        labels=[
            str(x["name"]) if isinstance(x, dict) else str(x) for x in data.get("labels") or []
        ],
        state=data.get("state") or "open",
        created_at=ts(data.get("created_at")),
        closed_at=ts(data["closed_at"]) if data.get("closed_at") else None,
        html_url=data.get("html_url") or "",
        author_association=str(data.get("author_association") or ""),
    )


def comment(data: dict[str, Any]) -> Comment:
    return Comment(
        id=int(data["id"]),
        body=data.get("body") or "",
        author=login(data.get("user")),
        created_at=ts(data.get("created_at")),
        updated_at=ts(data.get("updated_at")),
    )


def graphql_login(actor: Any) -> str:
    """A GraphQL actor's login as REST spells it: GraphQL names the Actions bot
    `github-actions` (a `Bot`), REST and events `github-actions[bot]`."""
    if not isinstance(actor, dict):
        return ""
    login = str(actor.get("login") or "")
    if actor.get("__typename") == "Bot" and login and not login.endswith("[bot]"):
        login += "[bot]"
    return login


def graphql_comment(node: dict[str, Any]) -> Comment:
    edited = node.get("lastEditedAt")
    return Comment(
        id=_big_int(node.get("fullDatabaseId")),
        body=node.get("body") or "",
        author=graphql_login(node.get("author")) or "ghost",
        created_at=ts(node.get("createdAt")),
        updated_at=ts(node.get("updatedAt")),
        # An edited comment whose editor GitHub does not name (a deleted account, or an
        # app's own edit should GitHub leave it null) counts as unedited: distrusting it
        # would jam every ticket if GitHub leaves billingops' own edits unnamed. SECURITY.md
        # lists the deleted-editor case as not defended.
        editor=(graphql_login(node.get("editor")) or None) if edited else None,
    )


def _big_int(value: Any) -> int:
    """A GraphQL `BigInt` (GitHub sends it as a decimal string) as an int; 0 when absent."""
    try:
        return int(str(value)) if value is not None else 0
    except ValueError:
        return 0


def graphql_listing(repository: Any) -> list[IssueSnapshot] | None:
    """The listed issues as REST would give them; None when there is more than one page
    (the caller then lists with REST, which pages)."""
    issues = (repository or {}).get("issues") if isinstance(repository, dict) else None
    if not isinstance(issues, dict) or (issues.get("pageInfo") or {}).get("hasNextPage"):
        return None
    out = []
    for n in issues.get("nodes") or []:
        if not n:
            continue
        out.append(
            IssueSnapshot(
                number=int(n["number"]),
                title=n.get("title") or "",
                body=n.get("body") or "",
                author=graphql_login(n.get("author")) or "ghost",
                labels=[str(x["name"]) for x in (n.get("labels") or {}).get("nodes") or [] if x],
                state=str(n.get("state") or "OPEN").lower(),
                created_at=ts(n.get("createdAt")),
                closed_at=ts(n["closedAt"]) if n.get("closedAt") else None,
                html_url=n.get("url") or "",
            )
        )
    return out


def graphql_visibility(repository: Any) -> dict[str, Any] | None:
    """A repository's visibility as an event payload carries it (`private`, `visibility`
    in lower case), or None when GitHub did not answer it."""
    value = repository.get("visibility") if isinstance(repository, dict) else None
    if not isinstance(value, str) or not value:
        return None
    return {"private": value.upper() == "PRIVATE", "visibility": value.lower()}


def label_event(data: dict[str, Any]) -> LabelEvent:
    actor = data.get("actor")
    return LabelEvent(
        event=str(data["event"]),
        label=str((data.get("label") or {}).get("name", "")),
        # A deleted account shows as a null actor; GitHub's UI calls it "ghost".
        actor=login(actor) or "ghost",
        actor_type=str(actor.get("type") or "User") if isinstance(actor, dict) else "User",
        created_at=ts(data.get("created_at")),
        id=int(data.get("id") or 0),
    )
