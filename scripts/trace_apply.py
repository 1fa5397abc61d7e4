"""Follow one approval through the code: which billingops modules an apply passes through,
and how many times control climbs back from `core/` up to `desk/`.

    .venv/bin/python scripts/trace_apply.py

Runs the duplicate-subscription scenario against localstripe and the fake GitHub (both on
loopback), triages it, applies both approval labels, then traces (sys.setprofile, every
thread) the read-only job's `gate_apply` and the apply job's `Desk.apply`. A "module" is a
`billingops.*` module (the sandbox stand-ins excluded) one of whose functions ran; a
"climb" is a call from a `desk/` function into `core/` returning to it (nested core calls
are not counted; each entry into the core is one climb back). Issue 22 counted 18 modules
and 12 climbs from `gate_apply` (it ran the whole apply twice when it wrote GitHub's side
itself); it now runs one apply: three read questions (`desk/read.py`: whose roles, which
identifiers, whose billing), one decision (`decide_apply`), and the executor's renders.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from contextlib import ExitStack
from types import FrameType
from typing import Any


def _layer(frame: FrameType | None) -> str:
    name = str(frame.f_globals.get("__name__", "")) if frame is not None else ""
    if not name.startswith("billingops.") or name.startswith("billingops.sandbox"):
        return ""
    return name


class Trace:
    def __init__(self) -> None:
        self.modules: Counter[str] = Counter()
        self.climbs: list[str] = []

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event not in ("call", "return"):
            return
        here = _layer(frame)
        if not here:
            return
        if event == "call":
            self.modules[here] += 1
            return
        caller = _layer(frame.f_back)
        if here.startswith("billingops.core.") and caller.startswith("billingops.desk."):
            self.climbs.append(f"{here}.{frame.f_code.co_name} -> {caller}")

    def __enter__(self) -> Trace:
        threading.setprofile(self)
        sys.setprofile(self)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


def main() -> None:
    from billingops._billing.stripe_gateway import StripeGateway
    from billingops._tracker.github_gateway import GitHubGateway
    from billingops.config import Config
    from billingops.desk import Desk
    from billingops.desk.gate import gate_apply
    from billingops.sandbox.fake_github import FakeGitHub
    from billingops.sandbox.scenarios import seed
    from billingops.sandbox.stripe_server import (
        DEFAULT_NOW,
        SANDBOX_API_KEY,
        StripeServer,
        reset_sandbox,
    )
    from billingops.sandbox.tickets import form_body

    token = "ghp_" + "T3st" * 9
    with ExitStack() as stack:
        stripe_url = stack.enter_context(StripeServer()).base_url
        fake = stack.enter_context(FakeGitHub("acme/support", token=token))
        fake.add_collaborator("maya", "maintain")
        fake.add_collaborator("ada", "admin")
        reset_sandbox(stripe_url)
        ticket = seed(stripe_url, "duplicate_subscriptions").ticket
        number = fake.add_issue(
            ticket.title, form_body(ticket), author="customer", labels=["billing"]
        )
        billing = StripeGateway(
            SANDBOX_API_KEY, stripe_url, compat=True, clock=lambda: float(DEFAULT_NOW)
        )
        tracker = GitHubGateway(token, "acme/support", fake.url, seconds_between_writes=None)
        desk = Desk(billing, tracker, Config(), "acme/support")
        desk.triage(fake.issue_json(number))
        fake.advance(60)
        fake.label_issue(number, "approve-cancel", actor="maya")
        fake.label_issue(number, "approve-refund", actor="ada")
        for name, run in (
            ("gate_apply (read-only job)", lambda: gate_apply(desk, number)),
            ("Desk.apply (apply job)", lambda: desk.apply(number)),
        ):
            with Trace() as trace:
                result = run()
            print(f"== {name}: {getattr(result, 'result', result).reason}")
            print(f"modules: {len(trace.modules)}")
            for module in sorted(trace.modules):
                print(f"  {module}")
            entered = sorted({c.split(" -> ")[0].rsplit(".", 1)[0] for c in trace.climbs})
            shell = sorted(m for m in trace.modules if m.startswith("billingops.desk."))
            print(f"desk modules: {len(shell)} ({', '.join(m.rsplit('.', 1)[1] for m in shell)})")
            print(f"core modules entered from desk: {len(entered)}")
            print(f"climbs core/ -> desk/: {len(trace.climbs)}")
            for climb, n in Counter(trace.climbs).most_common():
                print(f"  {n} x {climb}")


if __name__ == "__main__":
    main()
