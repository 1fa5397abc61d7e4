"""The imperative shell between the CLI and the pure core: it is handed its two gateways
(pip-audit's Auditor style), reads, calls the core, and writes. No rule lives here."""

from billingops.desk.desk import Desk

__all__ = ["Desk"]
