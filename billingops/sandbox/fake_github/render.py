"""The fake GitHub's JSON: its records in the shapes of GitHub's REST answers (`simple-user`,
`label`, `issue`, `issue-comment`, `issue-event-for-issue-items`, after the examples of
GitHub's OpenAPI description; fields billingops never reads are left out). Rendering only:
no state changes here (`store`), no HTTP (`server`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from billingops.sandbox.fake_github.state import Json, _Comment, _Issue, _Label, _node_id, _Repo
from billingops.sandbox.fake_github.store import Store


class Rendering(Store):
    """Records -> GitHub's JSON, with the server's address in every URL."""

    if TYPE_CHECKING:

        @property
        def url(self) -> str:
            """The API base URL (`server.FakeGitHub.url`)."""
            ...

    def _user_json(self, login: str) -> Json:
        # simple-user, with the fields GitHub marks required.
        kind = self._users.get(login) or ("Bot" if login.endswith("[bot]") else "User")
        uid = self._user_ids.get(login.lower()) or (
            int.from_bytes(login.encode()[:6].ljust(6, b"\0"), "big") % 10_000_000
        )
        api = f"{self.url}/users/{quote(login)}"
        return {
            "login": login,
            "id": uid,
            "node_id": _node_id("User", uid),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.html_base}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": kind,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _label_json(self, repo: _Repo, label: _Label) -> Json:
        return {
            "id": label.id,
            "node_id": _node_id("Label", label.id),
            "url": f"{self.url}/repos/{repo.full_name}/labels/{quote(label.name, safe='')}",
            "name": label.name,
            "color": label.color,
            "default": False,
            "description": label.description,
        }

    def _issue_json(self, repo: _Repo, issue: _Issue) -> Json:
        api = f"{self.url}/repos/{repo.full_name}/issues/{issue.number}"
        data: Json = {
            "url": api,
            "repository_url": f"{self.url}/repos/{repo.full_name}",
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self.html_base}/{repo.full_name}/issues/{issue.number}",
            "id": issue.id,
            "node_id": _node_id("Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self._user_json(issue.author),
            "labels": [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels],
            "state": issue.state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": len(issue.comments),
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "closed_by": self._user_json(issue.closed_by) if issue.closed_by else None,
            "author_association": self._association(repo, issue.author),
            "active_lock_reason": None,
            "body": issue.body,
            "state_reason": issue.state_reason,
        }
        if issue.pull_request:  # /issues lists pull requests too, marked by this key
            data["pull_request"] = {
                "url": f"{self.url}/repos/{repo.full_name}/pulls/{issue.number}",
                "html_url": f"{self.html_base}/{repo.full_name}/pull/{issue.number}",
            }
        return data

    def _association(self, repo: _Repo, login: str) -> str:
        if repo.full_name.split("/")[0].lower() == login.lower():
            return "OWNER"
        return "COLLABORATOR" if login.lower() in repo.collaborators else "NONE"

    def _comment_json(self, repo: _Repo, comment: _Comment) -> Json:
        issue_html = f"{self.html_base}/{repo.full_name}/issues/{comment.issue}"
        return {
            "id": comment.id,
            "node_id": _node_id("IssueComment", comment.id),
            "url": f"{self.url}/repos/{repo.full_name}/issues/comments/{comment.id}",
            "html_url": f"{issue_html}#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self._user_json(comment.author),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "issue_url": f"{self.url}/repos/{repo.full_name}/issues/{comment.issue}",
            "author_association": "NONE",
        }

    def _event_json(self, repo: _Repo, event: dict[str, Any]) -> Json:
        data: Json = {
            "id": event["id"],
            "node_id": _node_id("LabeledEvent", event["id"]),
            "url": f"{self.url}/repos/{repo.full_name}/issues/events/{event['id']}",
            "actor": self._user_json(event["actor"]),
            "event": event["event"],
            "commit_id": None,
            "commit_url": None,
            "created_at": event["at"],
            "performed_via_github_app": None,
        }
        if "rename" in event:
            data["rename"] = event["rename"]
        if "label" in event:
            label = repo.labels.get(event["label"]["name"].lower())
            data["label"] = {
                "name": event["label"]["name"],
                "color": label.color if label else "ededed",
            }
        return data
