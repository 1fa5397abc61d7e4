"""The REST routes of the fake GitHub: the endpoints billingops uses, answered from the
state in `server.FakeGitHub` (see its docstring), with GitHub's pagination."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlencode

from billingops.sandbox.fake_github.state import (
    Json,
    _Comment,
    _HttpError,
    _invalid,
    _is_installation,
    _label_name,
    _node_id,
    _permissions,
    _Repo,
)

if TYPE_CHECKING:
    from billingops.sandbox.fake_github.state import FakeState as FakeGitHub


def route(
    fake: FakeGitHub, method: str, path: str, query: dict[str, str], payload: Json
) -> tuple[int, Json, dict[str, str]]:
    if path.startswith("/orgs/"):
        return org_route(fake, method, path)
    m = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
    if m is None:
        raise _HttpError(404, "Not Found")
    repo = fake._repo(f"{unquote(m[1])}/{unquote(m[2])}")
    if not repo.accessible:
        raise _HttpError(404, "Not Found")
    rest = m[3] or ""
    seg = [unquote(s) for s in rest.split("/")[1:]]
    route = (method, *["N" if s.isdigit() else s for s in seg[:4]])
    me = fake.actor

    if route == ("GET",):
        return (
            200,
            {
                "full_name": repo.full_name,
                "private": repo.visibility != "public",
                "visibility": repo.visibility,
            },
            {},
        )
    if route == ("GET", "issues"):
        return list_issues(fake, repo, path, query)
    if route == ("POST", "issues"):
        title = (payload or {}).get("title")
        if not title:
            raise _invalid("Issue", "title", "missing_field")
        labels = [_label_name(x) for x in payload.get("labels") or []]
        issue = fake._new_issue(repo, title, payload.get("body"), me, labels)
        return 201, fake._issue_json(repo, issue), {}
    if route == ("GET", "issues", "comments", "N"):
        return 200, fake._comment_json(repo, find_comment(fake, repo, int(seg[2]))), {}
    if route == ("PATCH", "issues", "comments", "N"):
        comment = find_comment(fake, repo, int(seg[2]))
        body = (payload or {}).get("body")
        if not isinstance(body, str):
            raise _invalid("IssueComment", "body", "missing_field")
        if _is_installation(me) and comment.author.lower() != me.lower():
            # An installation token may edit only its own comments.
            raise _HttpError(403, "Resource not accessible by integration")
        fake._edit_comment(comment, body, me)
        return 200, fake._comment_json(repo, comment), {}
    if len(seg) >= 2 and seg[0] == "issues" and seg[1].isdigit():
        return issue_route(fake, repo, route, seg, path, query, payload)
    if method == "GET" and len(seg) == 3 and (seg[0], seg[2]) == ("collaborators", "permission"):
        found = repo.collaborators.get(seg[1].lower())
        if found is None:
            raise _HttpError(404, "Not Found")
        role, legacy = found
        user = fake._user_json(seg[1]) | {
            "permissions": _permissions(role, legacy),
            "role_name": role,
        }
        return 200, {"permission": legacy, "role_name": role, "user": user}, {}
    if route[:2] == ("GET", "environments") and len(seg) == 2:
        _deny(fake, "actions")  # Actions: Read, for an App or a fine-grained token
        if seg[1] not in repo.environments:
            raise _HttpError(404, "Not Found")
        return 200, environment_json(fake, repo, seg[1]), {}
    if route[:3] == ("GET", "actions", "secrets") and len(seg) == 3:
        _deny(fake, "secrets")  # Secrets: Read
        if seg[2].upper() not in repo.secrets:
            raise _HttpError(404, "Not Found")
        stamp = fake._now()
        return 200, {"name": seg[2].upper(), "created_at": stamp, "updated_at": stamp}, {}
    if route == ("GET", "labels"):
        labels = [fake._label_json(repo, x) for x in repo.labels.values()]
        return page(fake, labels, path, query)
    if route == ("POST", "labels"):
        p = payload or {}
        label = fake._create_label(
            repo, str(p.get("name", "")), str(p.get("color", "ededed")), p.get("description")
        )
        return 201, fake._label_json(repo, label), {}
    if len(seg) == 2 and method == "GET" and seg[0] == "labels":
        found_label = repo.labels.get(seg[1].lower())
        if found_label is None:
            raise _HttpError(404, "Not Found")
        return 200, fake._label_json(repo, found_label), {}
    raise _HttpError(404, "Not Found")


def _deny(fake: FakeGitHub, permission: str) -> None:
    if permission in fake.denied:
        raise _HttpError(403, "Resource not accessible by integration")


def org_route(fake: FakeGitHub, method: str, path: str) -> tuple[int, Json, dict[str, str]]:
    m = re.match(r"^/orgs/([^/]+)/custom-repository-roles$", path)
    if m is None or method != "GET":
        raise _HttpError(404, "Not Found")
    org = unquote(m[1])
    _deny(fake, "custom_roles")
    roles = fake._custom_roles.get(org.lower())
    if roles is None:  # not an organisation on GitHub Enterprise
        raise _HttpError(404, "Not Found")
    stamp = fake._now()
    body = [
        {
            "id": 8000 + i,
            "name": name,
            "description": None,
            "base_role": base,
            "permissions": [],
            "organization": fake._user_json(org) | {"type": "Organization"},
            "created_at": stamp,
            "updated_at": stamp,
        }
        for i, (name, base) in enumerate(roles)
    ]
    return 200, {"total_count": len(body), "custom_roles": body}, {}


def environment_json(fake: FakeGitHub, repo: _Repo, name: str) -> Json:
    rules, policy = repo.environments[name]
    ident = 161088000 + list(repo.environments).index(name)
    stamp = fake._now()
    return {
        "id": ident,
        "node_id": _node_id("Environment", ident),
        "name": name,
        "url": f"{fake.url}/repos/{repo.full_name}/environments/{quote(name)}",
        "html_url": f"{fake.html_base}/{repo.full_name}/deployments/activity_log"
        f"?environments_filter={quote(name)}",
        "created_at": stamp,
        "updated_at": stamp,
        "can_admins_bypass": True,
        "protection_rules": rules,
        "deployment_branch_policy": policy,
    }


def issue_route(
    fake: FakeGitHub,
    repo: _Repo,
    route: tuple[str, ...],
    seg: list[str],
    path: str,
    query: dict[str, str],
    payload: Json,
) -> tuple[int, Json, dict[str, str]]:
    issue = fake._issue(repo, int(seg[1]))
    me = fake.actor
    if route == ("GET", "issues", "N"):
        return 200, fake._issue_json(repo, issue), {}
    if route == ("PATCH", "issues", "N"):
        p = payload or {}
        if "title" in p and p["title"] != issue.title:
            fake._event(issue, "renamed", me, rename={"from": issue.title, "to": p["title"]})
            issue.title = p["title"]
        if "body" in p:
            issue.body = p["body"]
            issue.last_edited_at = fake._now()
        if "labels" in p:
            fake._set_issue_labels(repo, issue, [_label_name(x) for x in p["labels"]], me)
        if p.get("state") == "closed" and issue.state == "open":
            fake._close(issue, me, p.get("state_reason") or "completed")
        elif p.get("state") == "open" and issue.state == "closed":
            issue.state, issue.state_reason = "open", "reopened"
            issue.closed_at = issue.closed_by = None
            fake._event(issue, "reopened", me)
        elif p.get("state") not in (None, "open", "closed"):
            raise _invalid("Issue", "state")
        issue.updated_at = fake._now()
        return 200, fake._issue_json(repo, issue), {}
    if route == ("GET", "issues", "N", "comments"):
        comments = [fake._comment_json(repo, fake._comments[c]) for c in issue.comments]
        return page(fake, comments, path, query)
    if route == ("POST", "issues", "N", "comments"):
        body = (payload or {}).get("body")
        if not isinstance(body, str) or not body:
            raise _invalid("IssueComment", "body", "missing_field")
        return 201, fake._comment_json(repo, fake._new_comment(issue, body, me)), {}
    if route == ("GET", "issues", "N", "labels"):
        labels = [fake._label_json(repo, repo.labels[n.lower()]) for n in issue.labels]
        return page(fake, labels, path, query)
    if route == ("POST", "issues", "N", "labels"):
        raw = payload.get("labels", []) if isinstance(payload, dict) else payload or []
        fake._set_issue_labels(repo, issue, issue.labels + [_label_name(x) for x in raw], me)
        return 200, [fake._label_json(repo, repo.labels[n.lower()]) for n in issue.labels], {}
    if route == ("PUT", "issues", "N", "labels"):
        raw = payload.get("labels", []) if isinstance(payload, dict) else payload or []
        fake._set_issue_labels(repo, issue, [_label_name(x) for x in raw], me)
        return 200, [fake._label_json(repo, repo.labels[n.lower()]) for n in issue.labels], {}
    if len(seg) == 4 and route[:4] == ("DELETE", "issues", "N", "labels"):
        name = seg[3]
        current = [n for n in issue.labels if n.lower() == name.lower()]
        if not current:
            raise _HttpError(404, "Label does not exist")
        fake._set_issue_labels(repo, issue, [n for n in issue.labels if n not in current], me)
        return 200, [fake._label_json(repo, repo.labels[n.lower()]) for n in issue.labels], {}
    if route == ("GET", "issues", "N", "events"):
        events = [fake._event_json(repo, e) for e in issue.events]
        return page(fake, events, path, query)
    raise _HttpError(404, "Not Found")


def find_comment(fake: FakeGitHub, repo: _Repo, comment_id: int) -> _Comment:
    comment = fake._comments.get(comment_id)
    if comment is None or comment.issue not in repo.issues:
        raise _HttpError(404, "Not Found")
    return comment


def list_issues(
    fake: FakeGitHub, repo: _Repo, path: str, query: dict[str, str]
) -> tuple[int, Json, dict[str, str]]:
    state = query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise _invalid("Issue", "state")
    wanted = {x.strip().lower() for x in query.get("labels", "").split(",") if x.strip()}
    found = [
        i
        for i in repo.issues.values()
        if not i.deleted
        and (state == "all" or i.state == state)
        and wanted <= {n.lower() for n in i.labels}
    ]
    # GitHub's default order: sort=created, direction=desc.
    found.sort(key=lambda i: i.number, reverse=query.get("direction", "desc") == "desc")
    return page(fake, [fake._issue_json(repo, i) for i in found], path, query)


def page(
    fake: FakeGitHub, items: list[Json], path: str, query: dict[str, str]
) -> tuple[int, Json, dict[str, str]]:
    """GitHub pagination: per_page (default 30, max 100), page, and a Link header."""
    try:
        per_page = max(1, min(100, int(query.get("per_page", "30"))))
        page = max(1, int(query.get("page", "1")))
    except ValueError as e:
        raise _HttpError(422, "Validation Failed") from e
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]

    def link(p: int) -> str:
        q = urlencode(query | {"per_page": str(per_page), "page": str(p)})
        return f"<{fake.url}{path}?{q}>"

    rels = []
    if page < last:
        rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
    if page > 1:
        rels += [f'{link(1)}; rel="first"', f'{link(page - 1)}; rel="prev"']
    return 200, chunk, ({"Link": ", ".join(rels)} if rels else {})
