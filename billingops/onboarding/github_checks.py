"""`billingops doctor`, the GitHub half: the token (read, and write without writing), the
labels (created with `fix=True`, the only thing doctor writes), who can read the tickets
and the private desk (SPEC §5b), the approval gate and custom roles (`gate.py`), and the
backlog repository.

The texts: templates/checks/doctor_github.txt.j2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from billingops.config import Config, Environment
from billingops.errors import BillingopsError, NotFound, OperationalError
from billingops.onboarding import gate
from billingops.onboarding.checks import Check, Texts, fail, passed, skip
from billingops.onboarding.gateways import github_gateway
from billingops.onboarding.labels import required_labels

if TYPE_CHECKING:
    from billingops._tracker.github_gateway import GitHubGateway

_check = Texts("doctor_github")


def github_checks(
    env: Environment, config: Config, *, fix: bool, callers: list[gate.Caller] | None = None
) -> list[Check]:
    missing = [
        name
        for name, value in (
            ("GITHUB_TOKEN", env.github_token),
            ("GITHUB_REPOSITORY", env.github_repository),
        )
        if not value
    ]
    if missing:
        return [
            _check(fail, "github.token", "variables_missing", missing=missing),
            _check(skip, "github.labels", "labels_not_checked"),
        ]
    try:
        gh = github_gateway(env)
    except BillingopsError as exc:
        return [_check(fail, "github.token", "gateway_refused", error=str(exc))]
    repo = env.github_repository
    out: list[Check] = []
    try:
        gh.probe_read_issues()
    except BillingopsError as exc:
        out.append(_github_failure("github.read", _check.text("reading_issues", repo=repo), exc))
        out.append(_check(skip, "github.write", "write_not_checked"))
        out.append(_check(skip, "github.labels", "labels_not_checked"))
        return out
    out.append(_check(passed, "github.read", "can_read", repo=repo))
    try:
        gh.probe_write_issues()
        out.append(_check(passed, "github.write", "can_write"))
    except BillingopsError as exc:
        out.append(_github_failure("github.write", _check.text("writing"), exc))
    out.append(_labels(gh, config, fix=fix))
    out.extend(audience_checks(gh, config))
    out.extend(gate.gate_checks(gh, config, callers or []))
    out.extend(gate.custom_role_checks(gh, config))
    out.extend(backlog_checks(gh, config))
    return out


def backlog_checks(gh: GitHubGateway, config: Config) -> list[Check]:
    """SPEC §5b: whether the configured backlog repository is public, as GitHub says of
    that repository itself (one request). Nothing written to a public backlog carries an
    amount, a title or an email."""
    from billingops.core.audience import Audience, audience_of, visibility_shown

    backlog = config.backlog_repository
    if backlog is None or backlog.lower() == gh.repository.lower():
        return []  # the support repository: its visibility is checked above
    try:
        seen = gh.for_repository(backlog).visibility()
    except BillingopsError as exc:
        return [
            _check(fail, "github.backlog", "backlog_unreadable", backlog=backlog, error=str(exc))
        ]
    shown = visibility_shown(seen)
    public = audience_of(seen, Config()) is Audience.public
    outcome = "backlog_public" if public else "backlog_private"
    return [_check(passed, "github.backlog", outcome, backlog=backlog, shown=shown)]


def audience_checks(gh: GitHubGateway, config: Config) -> list[Check]:
    """SPEC §5b: who can read the tickets, and whether the private desk is there."""
    from billingops.core.audience import Audience, audience_of, visibility_shown

    repo = gh.repository
    try:
        seen = gh.visibility()
    except BillingopsError as exc:
        what = _check.text("reading_visibility", repo=repo)
        return [_github_failure("github.audience", what, exc)]
    audience = audience_of(seen, config)
    shown = visibility_shown(seen)
    by_github = audience_of(seen, Config())
    if audience is Audience.staff and by_github is Audience.public:
        return [_check(fail, "github.audience", "staff_on_public", repo=repo, shown=shown)]
    if audience is Audience.staff:
        return [_check(passed, "github.audience", "staff", repo=repo, shown=shown)]
    values = {"repo": repo, "shown": shown, "forced_public": by_github is Audience.staff}
    desk = config.private_repository
    if desk is None:
        return [_check(fail, "github.audience", "public_without_desk", **values)]
    pg = gh.for_repository(desk)
    try:
        desk_seen = pg.visibility()
        pg.probe_read_issues()
    except BillingopsError as exc:
        return [_check(fail, "github.private_desk", "desk_unreadable", desk=desk, error=str(exc))]
    if audience_of(desk_seen, Config()) is Audience.public:
        return [
            _check(
                fail,
                "github.private_desk",
                "desk_public",
                desk=desk,
                shown=desk_seen.get("visibility"),
            )
        ]
    try:
        pg.probe_write_issues()
    except BillingopsError as exc:
        return [_check(fail, "github.private_desk", "desk_unwritable", desk=desk, error=str(exc))]
    return [
        _check(passed, "github.audience", "public_with_desk", desk=desk, **values),
        _check(passed, "github.private_desk", "desk_ok", desk=desk),
    ]


def _github_failure(id: str, what: str, exc: BillingopsError) -> Check:
    """A failed GitHub call: the token rejected, refused (or the repository not found), or
    GitHub not reached. `what` is what the call was doing (a phrase of the template)."""
    text = str(exc)
    if "(401" in text:
        return _check(fail, id, "token_rejected", what=what)
    if isinstance(exc, NotFound) or "(403" in text:
        status = "404" if isinstance(exc, NotFound) else "403"
        return _check(fail, id, "token_refused", what=what, status=status)
    return _check(
        fail, id, "github_failed", error=text, operational=isinstance(exc, OperationalError)
    )


def _labels(gh: GitHubGateway, config: Config, *, fix: bool) -> Check:
    wanted = required_labels(config)
    try:
        have = {x["name"].lower() for x in gh.list_labels()}
    except BillingopsError as exc:
        return _github_failure("github.labels", _check.text("listing_labels"), exc)
    missing = [spec for spec in wanted if spec.name.lower() not in have]
    if not missing:
        return _check(passed, "github.labels", "labels_present", count=len(wanted))
    names = [s.name for s in missing]
    if not fix:
        return _check(fail, "github.labels", "labels_missing", names=names)
    failed: list[tuple[str, str]] = []
    for spec in missing:
        try:
            gh.ensure_label(spec.name, color=spec.color, description=spec.description)
        except BillingopsError as exc:
            failed.append((spec.name, str(exc)))
    if failed:
        return _check(fail, "github.labels", "labels_not_created", failed=failed)
    return _check(passed, "github.labels", "labels_created", names=names)
