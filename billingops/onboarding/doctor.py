"""`billingops doctor`: every check of a support repository's set-up, with the fix.

Reads only, except with `fix=True` (creates missing labels). The Stripe key is never
printed: at most its type (`rk_test`). Stripe's four read probes run concurrently, and
the Stripe and GitHub halves run side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from billingops.config import Config, Environment, load_config
from billingops.errors import BillingopsError, ConfigError, NotFound, OperationalError
from billingops.onboarding import gate, portal
from billingops.onboarding.checks import Check, fail, passed, skip, warn
from billingops.onboarding.keys import classify, permissions_line
from billingops.onboarding.labels import required_labels

if TYPE_CHECKING:
    from billingops._billing.stripe_gateway import StripeGateway
    from billingops._tracker.github_gateway import GitHubGateway

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Stripe's default per-endpoint limit (https://docs.stripe.com/rate-limits; Search: 20/s).
STRIPE_ENDPOINT_RATE = 25
_PROBE_WHAT = {
    "customers": "customers (with their default payment method)",
    "customers.search": "customers through the Search API",
    "subscriptions": "subscriptions (latest invoice and its payments, card, coupons)",
    "charges": "charges (with their refunds)",
    "invoices": "invoices (with their payments)",
    "prices": "prices (tiers and currency options)",
    "refunds": "refunds (apply checks them before writing)",
}


def is_loopback(url: str | None) -> bool:
    return bool(url) and (urlsplit(url or "").hostname or "") in _LOOPBACK


def stripe_gateway(env: Environment) -> StripeGateway:
    from billingops._billing.stripe_gateway import StripeGateway

    assert env.stripe_api_key is not None
    return StripeGateway(
        env.stripe_api_key.get_secret_value(),
        api_base=env.stripe_api_base,
        compat=env.billingops_sandbox == "localstripe",
    )


def github_gateway(env: Environment) -> GitHubGateway:
    from billingops._tracker.github_gateway import GitHubGateway

    assert env.github_token is not None and env.github_repository is not None
    # GitHub asks integrators to space writes by a second; a loopback API is a local
    # stand-in (tests, the demo) that does not need it.
    spacing = None if is_loopback(env.github_api_url) else 1.0
    return GitHubGateway(
        env.github_token.get_secret_value(),
        env.github_repository,
        env.github_api_url,
        seconds_between_writes=spacing,
    )


def config_check(env: Environment, cwd: Path) -> tuple[Check, Config]:
    path = env.config_path
    resolved = Path(path) if Path(path).is_absolute() else cwd / path
    try:
        config = load_config(path, cwd=cwd, required=env.config_required)
    except ConfigError as exc:
        fix = (
            "fix BILLINGOPS_CONFIG (or unset it)"
            if env.config_required and not resolved.exists()
            else f"fix {path} (or delete it: defaults apply)"
        )
        return fail("config", str(exc), fix), Config()
    if not resolved.is_file():
        return (
            passed("config", f"config: no {path}, defaults apply", "billingops init writes one"),
            config,
        )
    return passed("config", f"config: {path} is valid"), config


# ---------------------------------------------------------------------------------- Stripe


def stripe_checks(env: Environment, config: Config) -> list[Check]:
    if env.stripe_api_key is None or not env.stripe_api_key.get_secret_value().strip():
        return [
            fail(
                "stripe.key",
                "Stripe key: STRIPE_API_KEY is not set",
                "set STRIPE_API_KEY to a restricted key (rk_test_... first); " + permissions_line(),
            ),
            skip("stripe.read", "Stripe reads: not checked (no key)"),
            skip("stripe.portal", "billing portal: not checked (no key)"),
        ]
    shape = classify(env.stripe_api_key.get_secret_value())
    out = [passed("stripe.key", "Stripe key: present")]
    if shape.kind == "publishable":
        out.append(
            fail(
                "stripe.key.type",
                f"Stripe key type: publishable ({shape.label}), it cannot read billing data",
                "use a restricted key (rk_) instead; " + permissions_line(),
            )
        )
    elif shape.kind in ("webhook", "unknown"):
        what = "a webhook signing secret" if shape.kind == "webhook" else "not a Stripe API key"
        out.append(
            fail(
                "stripe.key.type",
                f"Stripe key type: {what}",
                "set STRIPE_API_KEY to a restricted key (rk_test_... / rk_live_...); "
                + permissions_line(),
            )
        )
    elif shape.kind == "secret":
        out.append(
            warn(
                "stripe.key.type",
                f"Stripe key type: secret ({shape.label}), full access to the account",
                "prefer restricted keys: " + permissions_line(),
            )
        )
    else:
        out.append(
            passed(
                "stripe.key.type",
                f"Stripe key type: restricted ({shape.label})",
                permissions_line(),
            )
        )
    if shape.mode is not None:
        note = None
        if config.stripe_rate_limit_per_second > STRIPE_ENDPOINT_RATE:
            # https://docs.stripe.com/rate-limits: 100/s (live) or 25/s (sandbox) per
            # account, and 25/s per endpoint unless stated otherwise; the report lists one
            # endpoint (subscriptions) at a time, so more than 25/s only meets 429s.
            note = (
                f"stripe_rate_limit_per_second is {config.stripe_rate_limit_per_second:g}: "
                f"Stripe allows {STRIPE_ENDPOINT_RATE} requests/s per endpoint by default, "
                "so the report would meet 429s; set it to 25 unless Stripe raised your limit"
            )
        out.append(passed("stripe.key.mode", f"Stripe mode: {shape.mode}", note))
    if shape.kind not in ("secret", "restricted"):
        out.append(skip("stripe.read", "Stripe reads: not checked (the key cannot be used)"))
        out.append(skip("stripe.portal", "billing portal: not checked (the key cannot be used)"))
        return out
    return out + _stripe_probes(env, config)


def _stripe_probes(env: Environment, config: Config) -> list[Check]:
    from billingops._billing.stripe_gateway import KeyProbe

    where = env.stripe_api_base or "api.stripe.com"
    try:
        gateway = stripe_gateway(env)
        with ThreadPoolExecutor(max_workers=2) as pool:
            reads = pool.submit(gateway.probe_reads)
            configs = pool.submit(_portal_or_problem, gateway)
            probes: dict[str, KeyProbe] = reads.result()
            portal_result = configs.result()
    except BillingopsError as exc:
        return [fail("stripe.read", f"Stripe: {exc}", "check STRIPE_API_KEY and STRIPE_API_BASE")]
    kinds = {p.kind for p in probes.values()}
    if kinds == {"auth"}:
        return [
            fail(
                "stripe.read",
                "Stripe rejected the key (401): revoked, rolled or mistyped",
                "create a new restricted key in the Dashboard (Developers > API keys) and "
                "update the secret STRIPE_API_KEY / STRIPE_READ_KEY",
            ),
            skip("stripe.portal", "billing portal: not checked (the key was rejected)"),
        ]
    if kinds == {"unreachable"}:
        return [
            fail(
                "stripe.read",
                f"Stripe: cannot connect to {where} (connection refused or no network)",
                "check the network (proxy, firewall) and STRIPE_API_BASE, then run doctor again",
                operational=True,
            ),
            skip("stripe.portal", "billing portal: not checked (Stripe unreachable)"),
        ]
    out = []
    # The very calls triage and apply make (same expansions), limit=1.
    for resource, probe in probes.items():
        what = _PROBE_WHAT.get(resource, resource)
        if probe.ok:
            out.append(passed(f"stripe.read.{resource}", f"Stripe key can read {what}"))
        elif probe.kind == "permission":
            out.append(
                fail(
                    f"stripe.read.{resource}",
                    f"Stripe key cannot read {what} (403: {probe.detail} missing)",
                    f"grant the restricted key {probe.detail}",
                )
            )
        else:
            out.append(
                fail(
                    f"stripe.read.{resource}",
                    f"Stripe: reading {resource} failed: {probe.detail}",
                    "run doctor again; if it persists, check status.stripe.com",
                    operational=probe.kind in ("unreachable", "rate_limited", "error"),
                )
            )
    if isinstance(portal_result, BillingopsError):
        out.append(_portal_problem(portal_result, config))
    else:
        out.append(portal.summary(portal_result, config.portal))
    if probes.get("customers") is not None and probes["customers"].ok:
        out.append(_login_ids(gateway, config))
    return out


def _login_ids(gateway: StripeGateway, config: Config) -> Check:
    """How many customers carry a GitHub login without the numeric account id (SPEC §5a:
    a login can be renamed and registered by another account; the id cannot)."""
    login, uid = config.github_username_metadata_key, config.github_user_id_metadata_key
    try:
        seen = gateway.login_coverage(login, uid)
    except BillingopsError as exc:
        return warn("stripe.github_ids", f"GitHub account ids in Stripe: not checked ({exc})")
    scanned = f"scanned the {seen.scanned} newest customers"
    if seen.more:
        scanned += ", older ones not checked"
    if seen.without_id:
        return warn(
            "stripe.github_ids",
            f"{seen.without_id} of {seen.with_login} customers with a {login} have no {uid} "
            f"({scanned}): a renamed GitHub login can be registered by someone else, who "
            "would then count as verified",
            f"store each customer's numeric GitHub account id in the metadata key {uid} next to "
            f"{login} (GitHub's GET /users/<login> answers it as `id`)",
        )
    return passed(
        "stripe.github_ids",
        f"every customer with a {login} also has a {uid} ({seen.with_login} of them; {scanned})",
    )


def _portal_or_problem(gateway: StripeGateway) -> list[dict[str, Any]] | BillingopsError:
    from billingops._billing.stripe_gateway import KeyProblem

    try:
        return gateway.portal_configurations()
    except KeyProblem as exc:
        return exc


def _portal_problem(problem: BillingopsError, config: Config) -> Check:
    kind = getattr(problem, "kind", "error")
    if kind == "unavailable":
        return portal.unknown(config.portal)
    if kind == "permission":
        return portal.unknown(
            config.portal,
            "grant the key Customer portal: Read, or set portal.* in .github/billingops.yml",
        )
    if kind in ("auth", "unreachable"):
        return skip("stripe.portal", "billing portal: not checked")
    return warn(
        "stripe.portal",
        f"billing portal: could not be read ({problem})",
        "run billingops portal validate",
    )


# ---------------------------------------------------------------------------------- GitHub


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
            fail(
                "github.token",
                f"GitHub: {' and '.join(missing)} not set",
                "in Actions they are set for you; locally export GITHUB_TOKEN (a fine-grained "
                "token with Issues: Read and write) and GITHUB_REPOSITORY=owner/name",
            ),
            skip("github.labels", "labels: not checked"),
        ]
    try:
        gh = github_gateway(env)
    except BillingopsError as exc:
        return [fail("github.token", f"GitHub: {exc}", "fix the variable it names")]
    repo = env.github_repository
    out: list[Check] = []
    try:
        gh.probe_read_issues()
    except BillingopsError as exc:
        out.append(_github_failure("github.read", f"cannot read issues of {repo}", exc))
        out.append(skip("github.write", "GitHub write access: not checked"))
        out.append(skip("github.labels", "labels: not checked"))
        return out
    out.append(passed("github.read", f"GitHub token can read issues of {repo}"))
    try:
        gh.probe_write_issues()
        out.append(
            passed("github.write", "GitHub token can write comments and labels (nothing written)")
        )
    except BillingopsError as exc:
        out.append(_github_failure("github.write", "cannot write comments or labels", exc))
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
    from billingops.core.audience import Audience, audience_of

    backlog = config.backlog_repository
    if backlog is None or backlog.lower() == gh.repository.lower():
        return []  # the support repository: its visibility is checked above
    try:
        seen = gh.for_repository(backlog).visibility()
    except BillingopsError as exc:
        return [
            fail(
                "github.backlog",
                f"backlog {backlog}: cannot read it ({exc})",
                "give the token Issues: Read and write and Metadata: Read on " + backlog,
            )
        ]
    shown = str(seen.get("visibility") or ("private" if seen.get("private") else "public"))
    if audience_of(seen, Config()) is Audience.public:
        return [
            passed(
                "github.backlog",
                f"backlog {backlog} is {shown}: gap issues there list ticket references and "
                "counts only (no titles, no revenue, no emails)",
            )
        ]
    return [
        passed(
            "github.backlog",
            f"backlog {backlog} is {shown}: gap issues list masked ticket titles and the "
            "revenue at risk",
        )
    ]


PRIVATE_DESK_TOKEN = (
    "Issues: Read and write and Metadata: Read on {desk} (and on the support repository): "
    "install billingops' GitHub App on both (billingops init --identity app: each job mints "
    "its token), or store a fine-grained token as BILLINGOPS_DESK_TOKEN; the Actions "
    "GITHUB_TOKEN cannot write to another repository"
)


def audience_checks(gh: GitHubGateway, config: Config) -> list[Check]:
    """SPEC §5b: who can read the tickets, and whether the private desk is there."""
    from billingops.core.audience import Audience, audience_of

    repo = gh.repository
    try:
        seen = gh.visibility()
    except BillingopsError as exc:
        return [_github_failure("github.audience", f"cannot read {repo}'s visibility", exc)]
    audience = audience_of(seen, config)
    shown = seen.get("visibility") or ("private" if seen.get("private") else "public")
    by_github = audience_of(seen, Config())
    if audience is Audience.staff and by_github is Audience.public:
        return [
            fail(
                "github.audience",
                f"{repo} is {shown} but ticket_audience: staff: the full handoff (customer "
                "ids, plans, amounts) would be posted where the public can read it",
                "remove ticket_audience (auto) and set private_repository: owner/name for the "
                "handoff, or make the repository private",
            )
        ]
    if audience is Audience.staff:
        return [passed("github.audience", f"{repo} is {shown}: the full handoff goes on tickets")]
    if by_github is Audience.staff:
        shown += ", but ticket_audience: public"
    desk = config.private_repository
    if desk is None:
        return [
            fail(
                "github.audience",
                f"{repo} is {shown}: the tickets are public, billingops posts only a neutral "
                "acknowledgement there, and no private desk is configured for the handoff",
                "create a private repository as the desk, set private_repository: owner/name "
                "in the config, run billingops init --private-repository owner/name, and give "
                "the token " + PRIVATE_DESK_TOKEN.format(desk="it"),
            )
        ]
    fix = "give the token " + PRIVATE_DESK_TOKEN.format(desk=desk)
    pg = gh.for_repository(desk)
    try:
        desk_seen = pg.visibility()
        pg.probe_read_issues()
    except BillingopsError as exc:
        return [fail("github.private_desk", f"private desk {desk}: cannot read it ({exc})", fix)]
    if audience_of(desk_seen, Config()) is Audience.public:
        return [
            fail(
                "github.private_desk",
                f"private desk {desk} is {desk_seen.get('visibility') or 'public'}: the full "
                "handoff would be public",
                f"make {desk} private (Settings → General → Danger Zone → Change visibility)",
            )
        ]
    try:
        pg.probe_write_issues()
    except BillingopsError as exc:
        return [fail("github.private_desk", f"private desk {desk}: cannot write ({exc})", fix)]
    return [
        passed(
            "github.audience",
            f"{repo} is {shown}: public tickets get a neutral reply, the handoff goes to {desk}",
        ),
        passed("github.private_desk", f"private desk {desk}: private, token can read and write"),
    ]


def _github_failure(id: str, what: str, exc: BillingopsError) -> Check:
    text = str(exc)
    if "(401" in text:
        return fail(id, f"GitHub rejected the token (401): {what}", "renew GITHUB_TOKEN")
    if isinstance(exc, NotFound) or "(403" in text:
        return fail(
            id,
            f"GitHub: {what} ({'404' if isinstance(exc, NotFound) else '403'})",
            "give the token Issues: Read and write on the repository (in Actions: "
            "permissions: issues: write); check GITHUB_REPOSITORY",
        )
    return fail(
        id,
        text,
        "check the network and GITHUB_API_URL, then run doctor again",
        operational=isinstance(exc, OperationalError),
    )


def _labels(gh: GitHubGateway, config: Config, *, fix: bool) -> Check:
    wanted = required_labels(config)
    try:
        have = {x["name"].lower() for x in gh.list_labels()}
    except BillingopsError as exc:
        return _github_failure("github.labels", "cannot list labels", exc)
    missing = [spec for spec in wanted if spec.name.lower() not in have]
    if not missing:
        return passed("github.labels", f"labels: all {len(wanted)} present")
    names = ", ".join(s.name for s in missing)
    if not fix:
        return fail(
            "github.labels",
            f"labels: {len(missing)} missing: {names}",
            "run billingops doctor --fix to create them (with colours and descriptions)",
        )
    failed: list[str] = []
    for spec in missing:
        try:
            gh.ensure_label(spec.name, color=spec.color, description=spec.description)
        except BillingopsError as exc:
            failed.append(f"{spec.name} ({exc})")
    if failed:
        return fail(
            "github.labels",
            f"labels: could not create {len(failed)}: {'; '.join(failed)}",
            "give the token Issues: Read and write, then run billingops doctor --fix again",
        )
    return passed("github.labels", f"labels: created {len(missing)}: {names}")


# ---------------------------------------------------------------------------------- all


def run(env_map: Mapping[str, str], cwd: Path, *, fix: bool = False) -> list[Check]:
    env = Environment.from_mapping(env_map)
    config_line, config = config_check(env, cwd)
    path = Path(env.config_path)
    root = gate.repository_root(path if path.is_absolute() else cwd / path, cwd)
    workflow, callers = gate.workflow_checks(root)
    with ThreadPoolExecutor(max_workers=2) as pool:
        stripe = pool.submit(stripe_checks, env, config)
        github = pool.submit(github_checks, env, config, fix=fix, callers=callers)
        return [config_line, *stripe.result(), *workflow, *github.result()]
