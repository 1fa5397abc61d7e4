"""Runs that race: the same calls started together on their own threads (tests only)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_at_once(calls: list[Callable[[], T]], *, timeout: float = 60) -> list[T]:
    """Each call's result, in order; the first call that raised raises here (a racing run
    must fail the test, not die unseen on its thread)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result(timeout=timeout) for f in futures]
