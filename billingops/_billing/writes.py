"""Writes: the refund and the cancel, each reconciled with what Stripe holds before it is
sent again."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NoReturn

from billingops._billing.client import _MARK_KEYS, REFUND_REASON, StripeClientBase, _Refused
from billingops._billing.translate import (
    _cancel_comment,
    _keyed,
    _message,
    to_refund,
    to_subscription,
)
from billingops.core.effects import REFUND_UNDONE
from billingops.errors import AlreadyCanceled, NotFound, WriteRefused
from billingops.models.billing import (
    ENDED_STATUSES,
    Refund,
    Subscription,
)

# A charge's refunds are read in pages of 100, at most this many pages.
REFUND_PAGES = 10


class Writes(StripeClientBase):
    # -- writes -------------------------------------------------------------------------
    #
    # Stripe keeps an idempotency key 24 hours and replays its first answer, errors included,
    # and a key sent again with other parameters is a 400 `idempotency_error`; DELETE ignores
    # keys. So every write reconciles with what Stripe holds (our metadata on the object)
    # before it is sent again, and a 400 that a race explains (the charge was refunded or
    # disputed meanwhile, the subscription canceled) becomes a `WriteRefused` with Stripe's
    # code: the step is recorded as not done, with the reason, and the run goes on.

    def refund(
        self,
        *,
        charge_id: str,
        amount: int,
        idempotency_key: str,
        metadata: dict[str, str],
        reason: str = REFUND_REASON,
    ) -> Refund:
        params: dict[str, Any] = {"charge": charge_id, "amount": amount, "metadata": metadata}
        if not self.compat:  # localstripe rejects `reason`
            params["reason"] = reason
        what = f"refund {charge_id}"

        def create(key: str) -> Any:
            return self._write(
                what,
                lambda: self._client.v1.refunds.create(
                    params=params, options={"idempotency_key": key}
                ),
            )

        try:
            obj = create(idempotency_key)
        except _Refused as exc:
            own = self._own_refund(charge_id, metadata)
            if own is not None:  # an earlier attempt of this step did it
                return own
            if exc.code != "idempotency_error":
                raise WriteRefused(exc.code, f"Stripe refused to {what}: {exc.message}") from None
            # The key was first used with other parameters and no refund of ours exists:
            # send again under a key bound to these parameters.
            try:
                obj = create(_keyed(idempotency_key, params))
            except _Refused as again:
                raise WriteRefused(
                    again.code, f"Stripe refused to {what}: {again.message}"
                ) from None
        return to_refund(obj.to_dict())

    def _own_refund(self, charge_id: str, metadata: Mapping[str, str]) -> Refund | None:
        """The refund of this charge that carries this step's metadata, if Stripe has one
        (a failed or canceled one does not count)."""
        for r in self.find_refunds_for(charge_id):
            mine = all(r.metadata.get(k) == v for k, v in metadata.items() if k in _MARK_KEYS)
            if mine and r.status not in REFUND_UNDONE:
                return r
        return None

    def retrieve_refund(self, refund_id: str) -> Refund:
        """One refund as Stripe has it now (re-checking a pending refund)."""
        obj = self._call(
            f"read refund {refund_id}", lambda: self._client.v1.refunds.retrieve(refund_id)
        )
        return to_refund(obj.to_dict())

    def cancel_subscription(
        self,
        *,
        subscription_id: str,
        at_period_end: bool,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> Subscription:
        """Cancel now (mark, then DELETE) or at period end (one update).

        Raises `AlreadyCanceled` when Stripe already has the subscription canceled (a
        DELETE answered 404, or the mark landed on a canceled subscription, which Stripe
        allows): `ours` says whether our own metadata was on it before this call, and a
        mark this call put on a subscription someone else canceled is taken off again.
        """
        subs = self._client.v1.subscriptions
        what = f"cancel {subscription_id}"
        # localstripe rejects `cancellation_details`; Stripe records it on the subscription.
        details = (
            {} if self.compat else {"cancellation_details": {"comment": _cancel_comment(metadata)}}
        )
        if at_period_end:
            params: dict[str, Any] = {"cancel_at_period_end": True, "metadata": metadata, **details}
        else:
            # Cancel takes no metadata: mark the subscription first, then cancel.
            params = {"metadata": metadata}
        # The metadata holds the live prior status, so the parameters of a retried step can
        # differ from the first attempt's: the key is bound to them (setting the same
        # metadata or flag twice is harmless; the desk's metadata check guards the step).
        key = _keyed(idempotency_key + ("" if at_period_end else ":metadata"), params)
        try:
            obj = self._write(
                what,
                lambda: subs.update(
                    subscription_id, params=params, options={"idempotency_key": key}
                ),
            )
        except _Refused as exc:
            return self._settled_cancel(subscription_id, at_period_end, exc, what, metadata)
        marked = obj.to_dict()
        if to_subscription(marked).status in ENDED_STATUSES:
            # Canceled before our mark (Stripe lets a canceled subscription take metadata).
            self._already_canceled(subscription_id, marked, metadata, unmark=True)
        if at_period_end:
            return to_subscription(marked)
        try:
            obj = self._write(
                what,
                lambda: subs.cancel(
                    subscription_id,
                    params=details,
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except _Refused as exc:
            return self._settled_cancel(subscription_id, at_period_end, exc, what, metadata)
        except NotFound:
            # Stripe: DELETE of a canceled subscription is a 404 (SPEC §5c). Ours only if
            # Stripe recorded our cancellation comment (an earlier attempt's DELETE whose
            # answer was lost); localstripe records none, so there the mark decides.
            data = self._read_sub(subscription_id)
            if to_subscription(data).status not in ENDED_STATUSES:
                raise
            self._already_canceled(subscription_id, data, metadata, unmark=not self.compat)
        return to_subscription(obj.to_dict())

    def _read_sub(self, subscription_id: str) -> dict[str, Any]:
        obj = self._call(
            f"read {subscription_id}",
            lambda: self._client.v1.subscriptions.retrieve(subscription_id),
        )
        data: dict[str, Any] = obj.to_dict()
        return data

    def _already_canceled(
        self,
        subscription_id: str,
        data: Mapping[str, Any],
        metadata: Mapping[str, str],
        *,
        unmark: bool = False,
    ) -> NoReturn:
        """Raise `AlreadyCanceled`: credited to billingops only when the subscription says so.

        With `unmark`, our mark was just written onto an already canceled subscription: it is
        ours only if Stripe recorded our cancellation comment (or, without one, never); else
        the mark is taken off again so no later run credits billingops either."""
        sub = to_subscription(dict(data))
        mine = all(sub.metadata.get(k) == metadata.get(k) for k in _MARK_KEYS)
        if unmark:
            details = data.get("cancellation_details")
            comment = details.get("comment") if isinstance(details, Mapping) else None
            mine = mine and comment == _cancel_comment(metadata)
            if not mine:
                clear = {k: "" for k in metadata}  # "" removes a metadata key at Stripe
                self._call(
                    f"unmark {subscription_id}",
                    lambda: self._client.v1.subscriptions.update(
                        subscription_id, params={"metadata": clear}
                    ),
                )
        who = "by an earlier attempt of this step" if mine else "not by billingops"
        raise AlreadyCanceled(
            subscription_id, mine, f"{subscription_id} was already canceled at Stripe ({who})"
        )

    def _settled_cancel(
        self,
        subscription_id: str,
        at_period_end: bool,
        exc: _Refused,
        what: str,
        metadata: Mapping[str, str],
    ) -> Subscription:
        """A 400 on a cancel: if the subscription already is as asked (a race, or our own
        earlier attempt), that is the result; otherwise the refusal, with Stripe's code."""
        data = self._read_sub(subscription_id)
        sub = to_subscription(data)
        if sub.status in ENDED_STATUSES:
            self._already_canceled(subscription_id, data, metadata)
        if at_period_end and sub.cancel_at_period_end:
            return sub
        raise WriteRefused(exc.code, f"Stripe refused to {what}: {exc.message}") from None

    def _write(self, what: str, fn: Callable[[], Any]) -> Any:
        """One write; a 4xx that is not about the key or permissions becomes `_Refused`
        (with Stripe's error code) for the caller to reconcile."""
        s = self._stripe

        def guarded() -> Any:
            try:
                return fn()
            except s.IdempotencyError as exc:
                raise _Refused("idempotency_error", _message(exc)) from None
            except s.InvalidRequestError as exc:
                if exc.http_status == 404:
                    raise
                raise _Refused(str(exc.code or "invalid_request"), _message(exc)) from None

        return self._call(what, guarded)

    def find_refunds_for(self, charge_id: str) -> list[Refund]:
        """Refunds of one charge with their metadata (the exactly-once check before writing)."""
        out: list[Refund] = []
        params: dict[str, Any] = {"charge": charge_id, "limit": 100}
        for _ in range(REFUND_PAGES):  # newest first; ours may be past the first 100
            page = self._call(
                f"list refunds of {charge_id}",
                partial(self._client.v1.refunds.list, params=params),
            )
            out += [to_refund(r.to_dict()) for r in page.data]
            if not page.has_more or not page.data:
                break
            params = {**params, "starting_after": page.data[-1].id}
        return out
