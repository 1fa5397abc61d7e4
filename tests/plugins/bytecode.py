"""Byte-code for billingops, compiled once before the workers start.

CI's environment (like this workplace's) may set PYTHONDONTWRITEBYTECODE: Python then reads
`__pycache__` but never writes it, so on a fresh clone every pytest-xdist worker and every
`billingops` subprocess a test starts would compile the whole package from source again.
The controlling process compiles it once (unchanged files are skipped); the rest read it.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "billingops"


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller did it
        return
    compileall.compile_dir(PACKAGE, quiet=2, workers=1)
