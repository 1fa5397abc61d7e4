"""Where the shipped templates live: `billingops/templates` in an installed wheel
(hatch force-include), `./templates` in a source checkout."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve()
TEMPLATE_DIRS = (_HERE.parent / "templates", _HERE.parents[1] / "templates")


def template_file(relative: str) -> Path:
    """The first existing copy of a shipped file (raises FileNotFoundError if none)."""
    for base in TEMPLATE_DIRS:
        candidate = base / relative
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"billingops template missing: {relative}")
