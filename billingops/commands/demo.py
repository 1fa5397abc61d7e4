"""`billingops demo`: the whole flow against local stand-ins, no keys needed.

It opens with what it will show, prints one summary per scenario (case, plan, what the
approval did), the full comments behind `--verbose`, and ends with what to try next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from billingops.commands.common import json_option, print_json
from billingops.errors import ExitStatus

if TYPE_CHECKING:
    from billingops.sandbox.demo import Story


@click.command()
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help="Run only this sandbox scenario (repeatable). Default: a tour of every case.",
)
@click.option("--list", "list_only", is_flag=True, help="List the sandbox scenarios and exit.")
@click.option(
    "--public",
    is_flag=True,
    help="A public support repository and a private desk: the neutral public reply, the "
    "handoff, and the outcome posted back after the approval.",
)
@click.option("-v", "--verbose", is_flag=True, help="Also print every comment in full.")
@click.option(
    "--plain",
    is_flag=True,
    help="With --verbose: the comments' raw Markdown (as GitHub gets it).",
)
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    scenarios: tuple[str, ...],
    list_only: bool,
    public: bool,
    verbose: bool,
    plain: bool,
    as_json: bool,
) -> ExitStatus:
    """The whole flow on a local Stripe sandbox and a local GitHub, no keys needed."""
    from billingops.sandbox import demo
    from billingops.sandbox.scenarios import SCENARIOS

    if list_only:
        if as_json:
            print_json(ctx, {"action": "demo", "scenarios": list(SCENARIOS)})
        else:
            for name in SCENARIOS:
                click.echo(name)
        return ExitStatus.OK
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise click.BadParameter(
            f"unknown scenario {unknown[0]!r} (see --list)", param_hint="--scenario"
        )
    from billingops.commands.texts import cli_text
    from billingops.config import Config

    chosen = scenarios or demo.TOUR
    verbose = verbose or plain
    where = {"repository": demo.REPOSITORY, "desk": demo.PRIVATE_DESK, "public": public}
    if as_json:
        stories = [s.contract(Config().labels) for s in demo.run(chosen, public=public)]
        print_json(ctx, {"action": "demo", "public": public, "scenarios": stories})
        return ExitStatus.OK
    click.echo(cli_text("demo_intro", count=len(chosen), verbose=verbose, **where) + "\n")
    for story in demo.run(chosen, public=public):
        if verbose:
            _detail(story, plain)
        click.echo(cli_text("demo_story", **_summary(story), **where))
        if verbose:
            click.echo("")
    click.echo("\n" + cli_text("demo_next", verbose=verbose, public=public))
    return ExitStatus.OK


def _summary(story: Story) -> dict[str, Any]:
    """What the one-line summary of a story is made of (the words are the template's)."""
    from billingops.config import Config
    from billingops.core.money import format_money

    t = story.triage
    labels = Config().labels
    steps = [
        {
            "kind": s.kind.value,
            "target": s.target,
            "at_period_end": bool(s.at_period_end),
            "needs": labels[s.needs] if s.needs else None,
            "money": format_money(s.amount, s.currency) if s.amount and s.currency else "",
        }
        for s in (t.plan.steps if t.plan else [])
    ]
    approvals = [
        {
            "who": a.who,
            "labels": list(a.labels),
            "note": a.note,
            "action": a.result.action,
            "reason": a.result.reason.removeprefix(f"{a.result.action}: "),
            "executed": [{"kind": e.kind.value, "status": e.status} for e in a.result.executed],
        }
        for a in story.approvals
    ]
    return {
        "title": f"#{story.number} {story.scenario}",
        "number": story.number,
        "case": t.classification.case.value if t.classification else None,
        "triage_action": t.action,
        "confidence": t.classification.confidence if t.classification else None,
        "steps": steps,
        "approvals": approvals,
        "handoff": story.handoff,
        "outcome": bool(story.public_outcome),
    }


def _detail(story: Story, plain: bool) -> None:
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.rule import Rule

    # On a terminal: styled. Piped to a file: the same rendering as plain text (no escapes,
    # no colour codes). --plain: the comments' raw Markdown, as GitHub receives it.
    console = Console(highlight=False, emoji=False)
    for scene in story.scenes:
        if plain:
            click.echo(f"\n=== {scene.title}\n{scene.outcome}")
            if scene.comment:
                click.echo("\n" + scene.comment.split("\n", 1)[1].strip())
            continue
        console.print(Rule(scene.title))
        console.print(f"[bold]{scene.outcome}[/bold]", markup=True)
        if scene.comment:
            # The zero-width space after `@` stops GitHub's mention pings; in a terminal it
            # only breaks copy-paste and grep.
            body = scene.comment.split("\n", 1)[1].replace("&#8203;", "")
            console.print(Markdown(body))
    click.echo("")


command.name = "demo"
