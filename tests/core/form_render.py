"""Render an issue body the way GitHub renders the billing issue form.

GitHub writes one `### <label>` section per field (markdown fields are not rendered),
with `_No response_` for an empty field, the option label for a dropdown, a comma list
for a multiple dropdown and `- [X] label` / `- [ ] label` for checkboxes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

FORM_PATH = Path(__file__).resolve().parents[2] / ".github" / "ISSUE_TEMPLATE" / "billing.yml"
NO_RESPONSE = "_No response_"


def load_form(path: Path = FORM_PATH) -> dict[str, Any]:
    form: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return form


def fields(form: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The form's input fields (everything but markdown), in order."""
    body = (form or load_form())["body"]
    return [f for f in body if f["type"] != "markdown"]


def labels(form: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Field id -> label."""
    return {f["id"]: f["attributes"]["label"] for f in fields(form)}


def options(field_id: str, form: Mapping[str, Any] | None = None) -> list[str]:
    for f in fields(form):
        if f["id"] == field_id:
            return [o if isinstance(o, str) else o["label"] for o in f["attributes"]["options"]]
    raise KeyError(field_id)


def render(
    values: Mapping[str, str | Sequence[str] | None], form: Mapping[str, Any] | None = None
) -> str:
    """The issue body for `values` (field id -> text, or list of ticked options)."""
    out = []
    for f in fields(form):
        value = values.get(f["id"])
        if f["type"] == "checkboxes":
            ticked = set(value or ())
            text = "\n".join(
                f"- [{'X' if o['label'] in ticked else ' '}] {o['label']}"
                for o in f["attributes"]["options"]
            )
        elif isinstance(value, str):
            text = value if value.strip() else NO_RESPONSE
        elif value:
            text = ", ".join(value)
        else:
            text = NO_RESPONSE
        out.append(f"### {f['attributes']['label']}\n\n{text}\n\n")
    return "".join(out)
