"""Stripe's idempotency semantics for localstripe, which ignores `Idempotency-Key`.

Without this the sandbox would let two concurrent runs both refund, which real Stripe
prevents. Semantics follow Stripe's documentation: a POST with a key seen before returns
the first response again (with `Idempotent-Replayed: true`); the same key with different
parameters is a 400 `idempotency_error`; the same key while the first request is still in
flight is a 409. Keys are kept for the life of the sandbox (Stripe keeps them 24 hours).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class _Entry:
    fingerprint: tuple[str, str, bytes]
    status: int = 0
    body: bytes = b""
    content_type: str = "application/json"
    done: bool = False


def _error(status: int, message: str) -> web.Response:
    payload = {"error": {"type": "idempotency_error", "message": message}}
    return web.Response(status=status, text=json.dumps(payload), content_type="application/json")


Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def make_middleware() -> tuple[Middleware, Callable[[], None]]:
    """The middleware, and a function that forgets every key (a sandbox reset)."""
    seen: dict[str, _Entry] = {}

    @web.middleware
    async def idempotency(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        fingerprint = (request.method, request.path, await request.read())
        entry = seen.get(key)
        if entry is not None:
            if entry.fingerprint != fingerprint:
                return _error(
                    400,
                    "Keys for idempotent requests can only be used with the "
                    "same parameters they were first used with.",
                )
            if not entry.done:
                return _error(
                    409,
                    "There is currently another in-progress request using "
                    "this Stripe-Idempotency-Key.",
                )
            replay = web.Response(
                status=entry.status, body=entry.body, content_type=entry.content_type
            )
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        entry = seen[key] = _Entry(fingerprint)
        try:
            response = await handler(request)
        except BaseException:
            del seen[key]  # a crash is not a response: let a retry run it
            raise
        if isinstance(response, web.Response) and response.status < 500:
            body = response.body
            entry.status = response.status
            entry.body = bytes(body) if isinstance(body, bytes | bytearray) else b""
            entry.content_type = response.content_type
            entry.done = True
        else:
            del seen[key]  # Stripe does not store 5xx results; a retry runs again
        return response

    return idempotency, seen.clear
