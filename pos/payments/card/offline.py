"""Store-and-forward: the limits on approving offline, and forwarding the
stored approvals as advices when the host is back. A decline after
forwarding cannot be undone at the counter; it is kept for a manager."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pos.clock import Clock, iso
from pos.payments.card import iso8583 as m
from pos.payments.card.acquirer import AcquirerClient, HostUnreachable, NoAnswer
from pos.payments.card.ledger import CardLedger, age_exceeded
from pos.payments.card.port import numeric_currency

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfflinePolicy:
    enabled: bool = True
    per_transaction_cap_minor: int = 50_000
    total_cap_minor: int = 200_000
    max_age_s: int = 24 * 3600

    def refusal(self, amount_minor: int, stored_minor: int, oldest_age_exceeded: bool) -> str:
        """Why an offline approval is not allowed now, or "" when it is."""
        if not self.enabled:
            return "offline card approvals are switched off"
        if amount_minor > self.per_transaction_cap_minor:
            return "the amount is over the offline limit per payment"
        if stored_minor + amount_minor > self.total_cap_minor:
            return "the total of payments waiting to be forwarded is at its limit"
        if oldest_age_exceeded:
            hours = self.max_age_s // 3600
            return (
                f"a stored offline payment is older than {hours} hours and must be forwarded first"
            )
        return ""


@dataclass(frozen=True)
class ForwardReport:
    accepted: int = 0
    declined: int = 0
    still_pending: int = 0


class OfflineForwarder:
    def __init__(
        self, ledger: CardLedger, acquirer: AcquirerClient, clock: Clock, policy: OfflinePolicy
    ) -> None:
        self.ledger = ledger
        self.acquirer = acquirer
        self.clock = clock
        self.policy = policy

    def refusal(self, amount_minor: int) -> str:
        stored, oldest = self.ledger.offline_totals()
        too_old = age_exceeded(oldest, self.clock.now(), self.policy.max_age_s)
        return self.policy.refusal(amount_minor, stored, too_old)

    def forward_pending(self) -> ForwardReport:
        """Sends every pending approval. An advice is idempotent at the host
        (same terminal and STAN), so one sent without an answer is sent again
        on the next run."""
        accepted = declined = pending = 0
        cfg = self.acquirer.config
        for item in self.ledger.offline_items("pending"):
            now = self.clock.now()
            advice = m.build(
                m.ADVICE,
                {
                    "3": m.PURCHASE,
                    "4": f"{item.amount_minor:012d}",
                    "7": now.strftime("%m%d%H%M%S"),
                    "11": item.stan,
                    "12": item.stored_at.strftime("%H%M%S"),
                    "13": item.stored_at.strftime("%m%d"),
                    "22": m.ENTRY_MODE_ICC,
                    "37": item.rrn,
                    "41": cfg.terminal_id,
                    "42": cfg.merchant_id,
                    "48": item.sealed_card,
                    "49": numeric_currency(item.currency),
                },
                item.icc_data,
            )
            try:
                answer = self.acquirer.exchange(advice)
            except (HostUnreachable, NoAnswer) as exc:
                log.info("offline payment %s not forwarded yet: %s", item.intent_id, exc.message)
                self.ledger.forward_attempted(item.intent_id)
                pending += 1
                continue
            code = answer.get("39")
            if code == m.APPROVED:
                self.ledger.forwarded(item.intent_id, "accepted", code)
                accepted += 1
            elif code == "96":
                self.ledger.forward_attempted(item.intent_id)
                pending += 1
            else:
                log.warning(
                    "offline payment %s (%s) declined after forwarding: %s at %s",
                    item.intent_id,
                    item.masked_pan,
                    code,
                    iso(now),
                )
                self.ledger.forwarded(item.intent_id, "declined", code)
                declined += 1
        return ForwardReport(accepted, declined, pending)
