"""Reads of the `IssueTracker` port: an issue, its thread (one GraphQL request, with the
listings asked for), its label events, a collaborator's role, a label's issues, and who the
token acts as. Requests only; `translate` turns the answers into models, `client` sends."""

from __future__ import annotations

from typing import Any

from billingops._tracker import translate
from billingops._tracker.client import GitHubClientBase
from billingops._tracker.translate import THREAD_QUERY, VIEWER_QUERY, thread_query
from billingops.errors import NotFound, OperationalError
from billingops.models.issue import Comment, IssueSnapshot, LabelEvent, Thread

# GraphQL error types of a root whose repository the token cannot reach (a configuration
# problem: no retry helps), as `_graphql_parts` reports them.
_UNREACHABLE = ("NOT_FOUND", "FORBIDDEN")


class Reads(GitHubClientBase):
    """The port's reads, part of `GitHubGateway`."""

    def get_issue(self, number: int) -> IssueSnapshot:
        data = self._call(f"get issue #{number}", "GET", f"{self._path}/issues/{number}")
        return translate.issue(data)

    def list_comments(self, number: int) -> list[Comment]:
        items = self._paginate(
            f"list comments of #{number}", f"{self._path}/issues/{number}/comments"
        )
        return [translate.comment(c) for c in items]

    def read_thread(
        self,
        number: int,
        *,
        listing: tuple[str, str] | None = None,
        extra_listing: tuple[str, str] | None = None,
    ) -> Thread:
        owner, name = self.repository.split("/")
        comments: list[Comment] = []
        after: str | None = None
        me, edited_at = "", 0
        # alias -> (owner/name, label): the listings asked for, read with the first page.
        roots = {
            alias: wanted
            for alias, wanted in (("listing", listing), ("extra", extra_listing))
            if wanted is not None
        }
        listed: dict[str, list[IssueSnapshot] | None] = {}
        listed_visibility: dict[str, Any] | None = None
        errors: dict[str, str] = {}
        unreachable = False
        while True:
            variables: dict[str, Any] = {
                "owner": owner,
                "name": name,
                "number": number,
                "after": after,
            }
            first = after is None
            query = thread_query(*roots) if first and roots else THREAD_QUERY
            if first:  # the listings with the first page only
                for alias, (repository, label) in roots.items():
                    variables[f"{alias}Owner"], variables[f"{alias}Name"] = repository.split("/")
                    variables[f"{alias}Label"] = label
            # Each listing is its own root: when one fails (a backlog the token cannot
            # see), the thread is still read and the caller goes on without it (SPEC §5c).
            data, failed = self._graphql_parts(
                f"read the thread of #{number}", query, variables, optional=frozenset(roots)
            )
            if first:
                for alias, (repository, _) in roots.items():
                    listed[alias] = translate.graphql_listing(data.get(alias))
                    if alias in failed:
                        errors[alias] = self._line(
                            f"GitHub: read the issues of {repository}: {failed[alias]}"
                        )
                        unreachable = unreachable or (
                            alias == "extra" and failed[alias].startswith(_UNREACHABLE)
                        )
                listed_visibility = translate.graphql_visibility(data.get("listing"))
            me = translate.graphql_login(data.get("viewer"))
            issue = ((data.get("repository") or {}).get("issue")) or None
            if issue is None:
                raise NotFound(self._line(f"GitHub: read the thread of #{number}: not found"))
            edited_at = translate.ts(issue.get("lastEditedAt"))
            page = issue.get("comments") or {}
            comments.extend(translate.graphql_comment(n) for n in page.get("nodes") or [] if n)
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                break
            after = str(info["endCursor"])
        if not me:
            raise OperationalError(self._line("GitHub: read the thread: no viewer login"))
        self._me = me
        return Thread(
            me=me,
            comments=comments,
            edited_at=edited_at,
            listing=listed.get("listing"),
            listing_visibility=listed_visibility,
            listing_error=errors.get("listing"),
            extra_listing=listed.get("extra"),
            extra_listing_error=errors.get("extra"),
            extra_listing_unreachable=unreachable,
        )

    def whoami(self) -> str:
        if self._me is None:
            me = translate.graphql_login(self._graphql("who am I", VIEWER_QUERY, {}).get("viewer"))
            if not me:
                raise OperationalError(self._line("GitHub: who am I: no viewer login"))
            self._me = me
        return self._me

    def label_events(self, number: int) -> list[LabelEvent]:
        items = self._paginate(f"list events of #{number}", f"{self._path}/issues/{number}/events")
        # `renamed` too: a title edit is an edit of the ticket (GraphQL `lastEditedAt` only
        # covers the body).
        kinds = ("labeled", "unlabeled", "renamed")
        events = [translate.label_event(e) for e in items if e.get("event") in kinds]
        return sorted(events, key=lambda e: (e.created_at, e.id))  # GitHub: oldest first

    def role_of(self, login: str) -> str | None:
        # `role_name`, not the legacy `permission` (maintain reads as write, triage as read).
        try:
            with self._errors(f"read the repository role of {login!r}"):
                repo = self._client.get_repo(self.repository)  # lazy: no request
                return str(repo.get_collaborator_role_name(login))
        except NotFound:
            return None  # not a collaborator (or no such user)

    def list_issues(self, *, labels: list[str], state: str = "all") -> list[IssueSnapshot]:
        params = {"state": state, "labels": ",".join(labels)} if labels else {"state": state}
        items = self._paginate(f"list issues labeled {labels!r}", f"{self._path}/issues", params)
        # The issues endpoint lists pull requests too.
        return [translate.issue(i) for i in items if "pull_request" not in i]
