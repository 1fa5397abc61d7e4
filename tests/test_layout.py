"""The package's layout: no two modules import each other (issue 22). A circle, even one
hidden under `if TYPE_CHECKING:`, means two modules are one concern split in two or a
lower layer that knows about the one above it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "billingops"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, known: set[str]) -> set[str]:
    """Modules imported at module level, including under `if TYPE_CHECKING:` (imports
    inside functions are deferred on purpose and do not count)."""
    out: set[str] = set()
    tree = ast.parse(path.read_text("utf-8"))
    body = list(tree.body)
    while body:
        node = body.pop(0)
        if isinstance(node, ast.If | ast.Try):
            body.extend(node.body)
            body.extend(getattr(node, "orelse", []))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out & known


def _graph() -> dict[str, set[str]]:
    paths = {_module(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {m: _top_level_imports(p, known) - {m} for m, p in paths.items()}


def _cycle_from(graph: dict[str, set[str]], start: str) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph[node]):
            if nxt == start:
                return [*path, start]
            if nxt not in seen and not start.startswith(nxt + "."):
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_billing_listing_and_the_gateway_are_not_a_circle() -> None:
    graph = _graph()
    assert "billingops._billing.listing" in graph["billingops._billing.stripe_gateway"]
    assert _cycle_from(graph, "billingops._billing.listing") is None


def test_no_module_imports_one_that_imports_it() -> None:
    graph = _graph()
    cycles = [c for m in sorted(graph) if (c := _cycle_from(graph, m)) is not None]
    assert cycles == []
