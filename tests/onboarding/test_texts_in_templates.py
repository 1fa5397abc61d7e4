"""The project's standard (docs/HACKING.md): every text a person reads comes from
`templates/`. A checklist line of `doctor`, `live-check` or `portal validate` is a
`passed(...)`, `warn(...)`, `fail(...)` or `skip(...)` (or a `Check(...)`): its summary
and fix must be values rendered from a template, never a string literal or an f-string
written in Python, directly or through a name assigned one in the same function or module.

The same holds for what `init` and `portal create` print or raise for a person (the modules
in `MESSAGE_MODULES`): a `click.echo(...)` or an error such as `BadInput(...)` gets a text
rendered by `texts.message(...)` or `texts.page(...)` (its template and macro names are
the only literals allowed, inside that call), never a literal or an f-string.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "billingops"
FOLDERS = ("onboarding", "commands")
BUILDERS = {"passed", "warn", "fail", "skip"}
# (builder, position of the argument, its keyword name)
TEXT_ARGUMENTS = ((1, "summary"), (2, "fix"))
# The modules whose person-readable messages (errors, notes, echoed lines) come from
# templates/messages/; the calls that carry such a message; the call that renders one.
MESSAGE_MODULES = (
    "commands/init.py",
    "commands/portal.py",
    "onboarding/repo_files.py",
    "onboarding/portal.py",
)
MESSAGE_CALLS = {
    "BadInput",
    "ConfigError",
    "OperationalError",
    "ClickException",
    "UsageError",
    "echo",
    "secho",
}
RENDERERS = {"message", "page"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _has_text(node: ast.AST) -> bool:
    """A str literal or an f-string anywhere in the expression."""
    return any(
        isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, str))
        for n in ast.walk(node)
    )


def _has_own_text(node: ast.AST) -> bool:
    """A str literal or an f-string in the expression, outside a `message(...)` or
    `page(...)` call (whose literals name a template and a macro: the text itself comes from
    templates/)."""
    if isinstance(node, ast.Call) and _name(node.func) in RENDERERS:
        return False
    if isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    ):
        return True
    return any(_has_own_text(child) for child in ast.iter_child_nodes(node))


def _holds_phrase(node: ast.AST) -> bool:
    """What makes a name a message's: an f-string or a literal with a space in it (a phrase;
    `d.get("id")` or `p.startswith("price_")` read data), outside a `message(...)` or
    `page(...)` call."""
    if isinstance(node, ast.Call) and _name(node.func) in RENDERERS:
        return False
    if isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value
    ):
        return True
    return any(_holds_phrase(child) for child in ast.iter_child_nodes(node))


def _texts_assigned(
    body: list[ast.stmt], has_text: Callable[[ast.AST], bool] = _has_text
) -> set[str]:
    """Names this scope (not the functions nested in it) assigns a text to."""
    out: set[str] = set()
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if has_text(node.value):
                out.update(t.id for t in targets if isinstance(t, ast.Name))
        todo.extend(ast.iter_child_nodes(node))
    return out


def _text_arguments(call: ast.Call) -> Iterator[ast.expr]:
    name = _name(call.func)
    if name in BUILDERS:
        for position, keyword in TEXT_ARGUMENTS:
            if len(call.args) > position:
                yield call.args[position]
            yield from (k.value for k in call.keywords if k.arg == keyword)
    elif name == "Check":
        yield from (k.value for k in call.keywords if k.arg in ("summary", "fix"))


def offences(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    module_texts = _texts_assigned(tree.body)
    found: list[str] = []

    def visit(scope: ast.AST, texts: set[str]) -> None:
        for node in ast.iter_child_nodes(scope):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node, texts | _texts_assigned(node.body))
                continue
            if isinstance(node, ast.Call):
                for arg in _text_arguments(node):
                    named = {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)}
                    if _has_text(arg) or named & texts:
                        found.append(f"{where}:{arg.lineno}: {ast.unparse(arg)[:70]}")
            visit(node, texts)

    visit(tree, module_texts)
    return found


def message_offences(source: str, where: str) -> list[str]:
    """Literal or f-string messages given to `click.echo` or to an error raised for a person."""
    tree = ast.parse(source)
    found: list[str] = []

    def visit(scope: ast.AST, texts: set[str]) -> None:
        for node in ast.iter_child_nodes(scope):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node, texts | _texts_assigned(node.body, _holds_phrase))
                continue
            if isinstance(node, ast.Call) and _name(node.func) in MESSAGE_CALLS:
                for arg in [*node.args, *(k.value for k in node.keywords if k.arg == "message")]:
                    named = {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)}
                    if _has_own_text(arg) or named & texts:
                        found.append(f"{where}:{arg.lineno}: {ast.unparse(arg)[:70]}")
            visit(node, texts)

    visit(tree, _texts_assigned(tree.body, _holds_phrase))
    return found


def test_the_check_finds_literals_f_strings_and_names_holding_them() -> None:
    source = """
FIX = "run it again"
def a(exc):
    fix = f"fix {exc}"
    other = str(exc)
    passed("id", "a literal")
    warn("id", f"{exc}", fix)
    fail("id", other, FIX)
    skip("id", summary="not checked")
    checks.fail("id", "x" + other)
    Check(id="id", status=s, summary=other, fix="y")
    fail("id", other, other)
"""
    found = offences(source, "m.py")
    assert [f.split(":")[1] for f in found] == ["6", "7", "7", "8", "9", "10", "11"]


def test_no_checklist_text_is_written_in_python() -> None:
    found = [
        hit
        for folder in FOLDERS
        for path in sorted((PACKAGE / folder).rglob("*.py"))
        for hit in offences(path.read_text("utf-8"), str(path.relative_to(PACKAGE.parent)))
    ]
    assert found == [], "texts to move to templates/:\n" + "\n".join(found)


def test_the_message_check_finds_literals_but_not_template_names() -> None:
    source = """
NOTE = "a note"
def a(exc, path, err):
    why = f"because {exc}"
    shown = texts.message("init", "kept", path=path)
    click.echo(f"wrote {path}", err=True)
    raise BadInput("no such file")
    raise errors.ConfigError(why)
    click.echo(NOTE)
    click.echo(message="x" + shown)
    raise BadInput(texts.message("init", "missing", path=path)) from None
    click.echo(shown, err=err)
    click.echo(json.dumps(exc), nl=False)
    click.echo(err=True)
    passed("id", "a checklist literal is the other check's")
    price = exc.get("id") if exc.startswith("price_") else None
    raise BadInput(texts.message("portal", "archived", price=price))
    phrase = "two words" if exc else path
    click.echo(texts.message("init", "note", text=phrase))
"""
    found = message_offences(source, "m.py")
    assert [f.split(":")[1] for f in found] == ["6", "7", "8", "9", "10", "19"]


def test_no_message_of_init_or_portal_create_is_written_in_python() -> None:
    found = [
        hit
        for module in MESSAGE_MODULES
        for hit in message_offences((PACKAGE / module).read_text("utf-8"), f"billingops/{module}")
    ]
    assert found == [], "messages to move to templates/messages/:\n" + "\n".join(found)


def test_a_value_is_printed_as_given_and_cannot_end_the_summary() -> None:
    """A `---` in a repository's name once split the line there (the rest became the fix);
    template syntax or runs of spaces in a value are text, not template."""
    from billingops.onboarding import gate
    from billingops.onboarding.checks import render_lines

    uses = "acme/bill---ops/.github/workflows/billingops-reusable.yml@v1"
    check = gate._pin_check(gate.Caller(".github/workflows/x.yml", uses, "env", "app"))
    assert check.summary == (
        f"workflow: .github/workflows/x.yml calls {uses}: v1, not a full commit SHA; a tag or "
        "branch can move to code that reads your Stripe keys"
    )
    assert check.fix is not None and check.fix.startswith("pin billingops' repository")
    odd = "{{ 7*7 }} {% if x %}  two  spaces\x00"
    check = gate._pin_check(gate.Caller(odd, "./x", "env", "app"))
    assert render_lines([check]) == [
        "[pass] workflow: {{ 7*7 }} {% if x %}  two  spaces\ufffd calls the reusable workflow "
        "beside it"
    ]
