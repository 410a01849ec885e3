"""Stored value and points as payment channels (entry points `stored_value`
and `points`). The member is identified by the dynamic member code the till
scans (the intent's auth code: "CODE", or "CODE/PIN" once the member has
keyed the PIN for an amount above the one-touch limit).

Online the spend is one activity at the chain's ledger under the intent's
out_trade_no, so a retry never spends twice and a query finds it. When the
server cannot be reached the till spends within the member's signed
allowance, under the risk rules, and reconciles the spend with the server at
the next contact (wallets.reconcile)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from pos.member_code import verify_code
from pos.money import Money
from pos.payments.channel import (
    Capabilities,
    ChannelEnv,
    ChannelResult,
    PaymentHandler,
    PaymentIntent,
    PaymentMode,
    PaymentStatus,
    RefundIntent,
    RefundResult,
    RefundStatus,
)
from sync.protocol import public_key_from_hex
from wallets.client import LedgerRefusal, LedgerUnknown, LedgerUnreachable
from wallets.link import MemberLink
from wallets.offline import OfflineBook, PendingSpend

if TYPE_CHECKING:
    from pos.store.terminal import Terminal

log = logging.getLogger(__name__)
DEFAULT_ONE_TOUCH_LIMIT = 20_000  # minor units: above it the member keys the PIN
OFFLINE_PREFIX = "offline:"
# The ledger's refusals as the terminal's payment codes (payments.pos.*).
_REFUSED = {
    "insufficient": "wallet_insufficient",
    "unknown-member": "wallet_unknown_member",
    "bad-pin": "wallet_bad_pin",
}


@dataclass(frozen=True)
class OfflineRiskQuery:
    """What the risk gate reads of an offline spend (as the card channel's)."""

    intent: PaymentIntent
    card_token: str = ""
    card_bin: str = ""


class MemberChannel:
    kind = ""

    def __init__(self, env: ChannelEnv) -> None:
        self.name = env.name or self.kind
        self._env = env
        self._limit = int(env.config.get("one_touch_limit", DEFAULT_ONE_TOUCH_LIMIT))
        self._offline = bool(env.config.get("offline", True))
        self._book = OfflineBook(env.data_dir)
        self._link: MemberLink | None = None

    # -- plumbing ---------------------------------------------------------------------------
    def link(self) -> MemberLink:
        if self._link is None:
            if self._env.store is None:
                raise ValueError(f"{self.name} needs an opened till")
            terminal = cast("Terminal", self._env.store)
            self._link = MemberLink(terminal, self._book, self._env.config.get("server_url"))
        return self._link

    def units(self, amount: Money) -> int:
        """What the member's account is charged for `amount`."""
        return amount.minor

    def capabilities(self) -> Capabilities:
        return Capabilities(
            modes=frozenset({PaymentMode.PAYMENT_CODE}),
            needs_network=False,
            poll_interval=1.0,
            payment_timeout=30.0,
        )

    # -- payment ----------------------------------------------------------------------------
    def start(
        self, intent: PaymentIntent, handler: PaymentHandler, auth_code: str | None = None
    ) -> ChannelResult:
        code, _, pin = (auth_code or "").strip().partition("/")
        if not code:
            return ChannelResult(PaymentStatus.FAILED, code="wallet_no_member")
        if intent.amount.minor > self._limit and not pin:
            return ChannelResult(PaymentStatus.FAILED, code="wallet_pin_required")
        link = self.link()
        units = self.units(intent.amount)
        try:
            link.reconcile()
        except LedgerUnreachable:
            return self._offline_spend(intent, code, units)
        except LedgerUnknown as exc:
            log.info("offline spends not reconciled yet: %s", exc)  # the spend still goes
        try:
            done = link.client().activity(
                code=code, kind=self.kind, type="redeem", amount=units,
                key=intent.out_trade_no, reference=intent.order_id, pin=pin,
            )  # fmt: skip
        except LedgerRefusal as exc:
            return ChannelResult(
                PaymentStatus.FAILED, code=_REFUSED.get(exc.error, "wallet_refused"),
                message=str(exc),
            )  # fmt: skip
        except LedgerUnknown as exc:
            return ChannelResult(PaymentStatus.UNKNOWN, message=str(exc))
        except LedgerUnreachable:
            return self._offline_spend(intent, code, units)
        link.after_online(done)
        return self._paid(intent, str(done["activity_id"]), str(done["number"]), done["balance"])

    def _paid(self, intent: PaymentIntent, ref: str, number: str, left: object) -> ChannelResult:
        return ChannelResult(
            PaymentStatus.SUCCEEDED,
            channel_ref=ref,
            paid_amount=intent.amount,
            buyer_ref=f"****{number[-4:]}",
            details={"balance": str(left), "kind": self.kind},
        )

    def _offline_spend(self, intent: PaymentIntent, code: str, units: int) -> ChannelResult:
        if not self._offline:
            return ChannelResult(PaymentStatus.FAILED, code="unreachable")
        if intent.amount.minor > self._limit:
            # Only the server can check a PIN: offline, one touch is the most.
            return ChannelResult(PaymentStatus.FAILED, code="wallet_offline_over_limit")
        link = self.link()
        key = link.code_key()
        number = None if key is None else verify_code(key, code, self._env.clock.now())
        if number is None:
            return ChannelResult(PaymentStatus.FAILED, code="wallet_offline_unknown_member")
        server_key = public_key_from_hex(link.server_key())
        why, _left = self._book.spend(number, self.kind, units, self._env.clock.now(), server_key)
        if why:
            return ChannelResult(PaymentStatus.FAILED, code=f"wallet_offline_{why}")
        if self._env.offline_risk is not None:
            refused = self._env.offline_risk(OfflineRiskQuery(intent, f"member:{number}"))
            if refused:
                return ChannelResult(
                    PaymentStatus.FAILED, code="wallet_offline_risk", message=refused
                )
        pending = PendingSpend(intent.out_trade_no, "", self.kind, "redeem", units, intent.order_id)
        why, left = self._book.spend(
            number, self.kind, units, self._env.clock.now(), server_key, pending
        )
        if why:
            return ChannelResult(PaymentStatus.FAILED, code=f"wallet_offline_{why}")
        return self._paid(intent, OFFLINE_PREFIX + intent.out_trade_no, number, left)

    def query(self, intent: PaymentIntent) -> ChannelResult:
        if self._book.find(intent.out_trade_no) is not None:
            return ChannelResult(PaymentStatus.SUCCEEDED, paid_amount=intent.amount)
        try:
            found = self.link().client().find(intent.out_trade_no)
            if found is None:
                # Nothing yet: claim the key, so a spend still on its way can
                # never be recorded after this answer.
                found = self.link().client().void(intent.out_trade_no, self.kind)
        except (LedgerUnreachable, LedgerUnknown, LedgerRefusal) as exc:
            return ChannelResult(PaymentStatus.UNKNOWN, code="unreachable", message=str(exc))
        if found["type"] == "void":
            return ChannelResult(PaymentStatus.CLOSED)
        if found["type"] == "redeem":
            return ChannelResult(
                PaymentStatus.SUCCEEDED, channel_ref=str(found["activity_id"]),
                paid_amount=intent.amount,
            )  # fmt: skip
        return ChannelResult(PaymentStatus.FAILED)

    def cancel(self, intent: PaymentIntent) -> ChannelResult:
        if self._book.find(intent.out_trade_no) is not None:
            self._book.done(intent.out_trade_no)  # never reached the server: dropped
            return ChannelResult(PaymentStatus.CLOSED)
        paid = self.query(intent)
        if paid.status is PaymentStatus.UNKNOWN:
            return paid
        if paid.status is not PaymentStatus.SUCCEEDED:
            return ChannelResult(PaymentStatus.CLOSED)
        back = self._give_back("cancel:" + intent.out_trade_no, paid.channel_ref, intent.amount)
        status = {RefundStatus.SUCCEEDED: PaymentStatus.CLOSED}.get(
            back.status, PaymentStatus.UNKNOWN
        )
        return ChannelResult(status, channel_ref=paid.channel_ref)

    def close(self, intent: PaymentIntent) -> ChannelResult:
        return self.cancel(intent)

    # -- refunds ----------------------------------------------------------------------------
    def refund(self, refund: RefundIntent) -> RefundResult:
        payment = refund.payment
        ref = payment.channel_ref
        if ref.startswith(OFFLINE_PREFIX):
            try:
                self.link().reconcile()
                found = self.link().client().find(payment.out_trade_no)
            except (LedgerUnreachable, LedgerUnknown):
                return RefundResult(RefundStatus.PENDING)  # asked again once reconciled
            if found is None:
                return RefundResult(RefundStatus.PENDING)
            ref = str(found["activity_id"])
        return self._give_back(refund.out_refund_no, ref, refund.amount)

    def _give_back(self, key: str, activity: str, amount: Money) -> RefundResult:
        """Refund `amount` of the spend `activity` to the balance it came from."""
        try:
            done = self.link().client().activity(
                kind=self.kind, type="refund", amount=self.units(amount), key=key,
                refers_to=activity,
            )  # fmt: skip
        except LedgerRefusal as exc:
            return RefundResult(RefundStatus.FAILED, code=exc.error, message=exc.detail)
        except LedgerUnreachable:
            return RefundResult(RefundStatus.PENDING)
        except LedgerUnknown as exc:
            return RefundResult(RefundStatus.UNKNOWN, message=str(exc))
        return RefundResult(
            RefundStatus.SUCCEEDED, channel_ref=str(done["activity_id"]),
            refunded_amount=amount,
        )  # fmt: skip

    def refund_query(self, refund: RefundIntent) -> RefundResult:
        try:
            found = self.link().client().find(refund.out_refund_no)
        except (LedgerUnreachable, LedgerUnknown) as exc:
            return RefundResult(RefundStatus.UNKNOWN, message=str(exc))
        if found is None:
            return self.refund(refund)  # never recorded: the same key again is safe
        return RefundResult(
            RefundStatus.SUCCEEDED, channel_ref=str(found["activity_id"]),
            refunded_amount=refund.amount,
        )  # fmt: skip


class StoredValueChannel(MemberChannel):
    kind = "stored_value"


class PointsChannel(MemberChannel):
    """Points redeemed at the configured rate: `points_per_yuan` points pay
    one yuan (100 minor units), rounded up to a whole point."""

    kind = "points"

    def __init__(self, env: ChannelEnv) -> None:
        super().__init__(env)
        self._rate = int(env.config.get("points_per_yuan", 100))
        if self._rate <= 0:
            raise ValueError("points_per_yuan must be a positive whole number")

    def units(self, amount: Money) -> int:
        return -(-amount.minor * self._rate // 100)
