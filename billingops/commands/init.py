"""`billingops init`: write the issue form, the workflow and the config into a support
repository (and, optionally, the weekly report workflow)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from billingops.commands.common import dry_run_option, json_option, print_json
from billingops.errors import BadInput, ExitStatus
from billingops.onboarding.repo_files import (
    DEFAULT_ENVIRONMENT,
    REF_PLACEHOLDER,
    WORKFLOW_REPO_PLACEHOLDER,
    Options,
    Status,
    check_writable,
    default_workflow_repo,
    kept_notes,
    plan,
    repository_root,
    write,
)
from billingops.onboarding.texts import message, page


@click.command("init")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that exist and differ.")
@click.option("--with-report", is_flag=True, help="Also write the weekly report workflow.")
@click.option(
    "--report-issue",
    type=int,
    metavar="N",
    help="Post the weekly report on issue N (implies --with-report; default: job summary).",
)
@click.option(
    "--ref",
    metavar="SHA",
    help=f"Commit SHA of billingops' repository to pin (default: {REF_PLACEHOLDER}, to replace).",
)
@click.option(
    "--workflow-repo",
    default=None,
    metavar="OWNER/NAME",
    help="Repository that holds billingops' reusable workflow and action "
    "(default: billingops' own, from its [project.urls] Repository).",
)
@click.option(
    "--spec",
    hidden=True,
    help="Ignored: the workflow installs billingops from the pinned commit itself.",
)
@click.option(
    "--environment",
    default=DEFAULT_ENVIRONMENT,
    show_default=True,
    help="GitHub Environment that holds STRIPE_WRITE_KEY (add required reviewers).",
)
@click.option(
    "--private-repository",
    metavar="OWNER/NAME",
    help="Public support repository: the private desk that gets the handoff (SPEC §5b).",
)
@click.option(
    "--identity",
    type=click.Choice(["app", "actions"]),
    default="app",
    show_default=True,
    help="Who billingops acts as on GitHub: app (its own GitHub App; each job mints a "
    "short-lived token) or actions (the Actions token, github-actions[bot]).",
)
@click.option(
    "--support-repository",
    metavar="OWNER/NAME",
    help="With --desk-path and --identity app: the public support repository the desk's "
    "token must reach.",
)
@click.option(
    "--enterprise-server",
    is_flag=True,
    help="GitHub Enterprise Server (no `uses: $/` there): write a workflow whose two jobs "
    "call billingops' action directly at the pinned commit, instead of the few lines that "
    "call the reusable workflow.",
)
@click.option(
    "--draft",
    is_flag=True,
    help="Write a draft with placeholders (no --workflow-repo or --ref yet); it cannot run "
    "until they are replaced, and doctor fails on it.",
)
@click.option(
    "--desk-path",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Clone of the private desk: also write its workflow and config there.",
)
@dry_run_option
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    path: Path,
    force: bool,
    with_report: bool,
    report_issue: int | None,
    ref: str | None,
    workflow_repo: str | None,
    spec: str | None,
    environment: str,
    private_repository: str | None,
    identity: str,
    support_repository: str | None,
    enterprise_server: bool,
    draft: bool,
    desk_path: Path | None,
    dry_run: bool,
    as_json: bool,
) -> ExitStatus:
    """Write the billing issue form, the workflow and the commented config into the git
    repository at PATH (default: here). Shows what it writes; never overwrites a file that
    differs without --force (the missing ones are still written)."""
    if spec is not None:
        click.echo(message("init", "spec_ignored"), err=True)
    options = Options(
        ref=ref,
        workflow_repo=workflow_repo or default_workflow_repo(),
        environment=environment,
        with_report=with_report,
        report_issue=report_issue,
        private_repository=private_repository,
        identity=identity,
        support_repository=support_repository,
        enterprise_server=enterprise_server,
    )
    options.validate()
    if private_repository is not None and (with_report or report_issue is not None):
        raise BadInput(message("init", "report_in_public"))
    if desk_path is not None and private_repository is None:
        raise BadInput(message("init", "desk_path_alone"))
    if desk_path is not None and identity == "app" and support_repository is None:
        raise BadInput(message("init", "desk_app_without_support"))
    repository_root(path)  # where, before what: a wrong directory is the first thing to fix
    left = options.placeholders()
    if left and not draft:
        given = workflow_repo == WORKFLOW_REPO_PLACEHOLDER  # copied from the README as is
        raise BadInput(message("init", "pin_needed", left=left, given_placeholder=given))
    # With --json the human lines go to stderr and stdout gets the one object.
    written = [_init_one(path, options, force=force, dry_run=dry_run, err=as_json)]
    if desk_path is not None:
        click.echo(
            message("init", "desk_heading", desk=private_repository, path=desk_path), err=True
        )
        desk = dataclasses.replace(
            options, desk=True, private_repository=None, with_report=False, report_issue=None
        )
        written.append(_init_one(desk_path, desk, force=force, dry_run=dry_run, err=as_json))
    if not dry_run:
        _next_steps(options, desk_written=desk_path is not None, err=as_json)
    if as_json:
        print_json(ctx, {"action": "init", "dry_run": dry_run, "repositories": written})
    return ExitStatus.OK


def _init_one(
    path: Path, options: Options, *, force: bool, dry_run: bool, err: bool = False
) -> dict[str, Any]:
    """Plan (and unless `dry_run`, write) one repository's files; returns its --json part."""
    root = repository_root(path)
    planned = plan(root, options, force=force)
    shown: dict[str, Any] = {
        "path": str(root),
        "files": [{"path": p.path, "status": p.status.value, "why": p.why} for p in planned],
    }
    for p in planned:
        click.echo(message("init", "planned", verb=p.status.value, path=p.path, why=p.why), err=err)
    if dry_run:
        for p in planned:
            if p.status is not Status.unchanged:
                click.echo(err=err)
                click.echo(
                    message("init", "dry_run_file", path=p.path, verb=p.status.value), err=err
                )
                click.echo(p.content, nl=False, err=err)
        for note in kept_notes(planned):
            click.echo(message("init", "note", text=note), err=True)
        click.echo(message("init", "dry_run_done"), err=True)
        return shown
    check_writable(root, planned)
    written = write(root, planned)
    for note in kept_notes(planned):
        click.echo(message("init", "note", text=note), err=True)
    if written:
        click.echo(message("init", "wrote", count=len(written), root=root), err=True)
    elif not kept_notes(planned):
        click.echo(message("init", "up_to_date"), err=True)
    return shown


def _next_steps(options: Options, *, desk_written: bool = False, err: bool = False) -> None:
    left = options.placeholders()
    if left:
        click.echo(
            message(
                "init", "draft_warning", left=left, enterprise_server=options.enterprise_server
            ),
            err=True,
        )
    click.echo(
        page(
            "init_next_steps",
            app=options.identity == "app",
            desk=options.private_repository,
            desk_written=desk_written,
            environment=options.environment,
            enterprise_server=options.enterprise_server,
            workflow_repo=options.workflow_repo,
        ),
        err=err,
    )
