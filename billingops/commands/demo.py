"""`billingops demo`: the whole flow against local stand-ins, no keys needed."""

from __future__ import annotations

import click

from billingops.errors import ExitStatus


@click.command()
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help="Run only this sandbox scenario (repeatable). Default: a tour of every case.",
)
@click.option("--list", "list_only", is_flag=True, help="List the sandbox scenarios and exit.")
@click.option("--plain", is_flag=True, help="Print the comments' raw Markdown (as GitHub gets it).")
def command(scenarios: tuple[str, ...], list_only: bool, plain: bool) -> ExitStatus:
    """The whole flow on a local Stripe sandbox and a local GitHub, no keys needed."""
    from billingops.sandbox import demo
    from billingops.sandbox.scenarios import SCENARIOS

    if list_only:
        for name in SCENARIOS:
            click.echo(name)
        return ExitStatus.OK
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise click.BadParameter(
            f"unknown scenario {unknown[0]!r} (see --list)", param_hint="--scenario"
        )

    from rich.console import Console
    from rich.markdown import Markdown
    from rich.rule import Rule

    # On a terminal: styled. Piped to a file: the same rendering as plain text (no escapes,
    # no colour codes). --plain: the comments' raw Markdown, as GitHub receives it.
    console = Console(highlight=False, emoji=False)
    for scene in demo.run(scenarios or demo.TOUR):
        if plain:
            click.echo(f"\n=== {scene.title}\n{scene.outcome}")
            if scene.comment:
                click.echo("\n" + scene.comment.split("\n", 1)[1].strip())
            continue
        console.print(Rule(scene.title))
        console.print(f"[bold]{scene.outcome}[/bold]")
        if scene.comment:
            # The zero-width space after `@` stops GitHub's mention pings; in a terminal it
            # only breaks copy-paste and grep.
            body = scene.comment.split("\n", 1)[1].replace("&#8203;", "")
            console.print(Markdown(body))
    return ExitStatus.OK


command.name = "demo"
