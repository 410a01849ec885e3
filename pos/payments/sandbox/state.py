"""What the sandbox gateways know: trades, refunds, and the scenarios that
decide what the imaginary shopper and network do. Platform-neutral; the
protocol layers (alipay_gw, wechat_gw) translate to and from the wire."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pos.clock import Clock

FAULT_KINDS = ("5xx", "timeout", "torn", "torn_body", "bad_signature", "slow")
OPS = ("start", "query", "cancel", "refund", "refund_query", "*")
DEFAULT_QR_PAY_AFTER = 5.0


class TradeState(StrEnum):
    CREATED = "created"  # QR made, not scanned (Alipay: invisible to query)
    PAYING = "paying"  # scanned / code presented, shopper confirming
    PAID = "paid"
    CLOSED = "closed"  # closed, cancelled or reversed (money given back if it was paid)
    FAILED = "failed"  # payment error


@dataclass
class Fault:
    kind: str
    op: str = "start"
    times: int = 1
    after: bool = True  # act on the request first (the "accepted, then lost" case)
    delay: float = 30.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fault:
        fault = cls(
            kind=str(d["kind"]),
            op=str(d.get("op", "start")),
            times=int(d.get("times", 1)),
            after=bool(d.get("after", True)),
            delay=float(d.get("delay", 30.0)),
        )
        if fault.kind not in FAULT_KINDS or fault.op not in OPS:
            raise ValueError(f"unknown fault {fault.kind}/{fault.op}")
        return fault


@dataclass
class Scenario:
    pay_after: float | None = None  # None: QR pays after the default, a code at once
    confirm: float = 1.0  # seconds seen as "user paying" before pay_after (QR)
    outcome: str = "pay"  # what the shopper does at pay_after: pay | cancel | never
    decline: str = ""  # decline the start with this sub_code / err_code
    faults: list[Fault] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        pay_after = d.get("pay_after")
        outcome = str(d.get("outcome", "pay"))
        if outcome not in ("pay", "cancel", "never"):
            raise ValueError(f"unknown outcome {outcome}")
        return cls(
            pay_after=None if pay_after is None else float(pay_after),
            confirm=float(d.get("confirm", 1.0)),
            outcome=outcome,
            decline=str(d.get("decline", "")),
            faults=[Fault.from_dict(f) for f in d.get("faults", [])],
        )

    def take_fault(self, op: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.op in (op, "*"):
                fault.times -= 1
                return fault
        return None


@dataclass
class Refund:
    out_refund_no: str
    refund_no: str
    amount: int
    created: datetime


@dataclass
class Trade:
    platform: str
    out_trade_no: str
    trade_no: str
    amount: int  # fen
    subject: str
    mode: str  # qr | code
    scenario: Scenario
    created_mono: float
    created: datetime
    state: TradeState = TradeState.CREATED
    qr: str = ""
    notify_url: str = ""  # where the platform POSTs its notification once paid
    buyer: str = ""
    paid_at: datetime | None = None
    reversed_paid: bool = False  # cancelled after being paid: money returned
    refunds: dict[str, Refund] = field(default_factory=dict)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds.values())

    def view(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "out_trade_no": self.out_trade_no,
            "trade_no": self.trade_no,
            "amount": self.amount,
            "mode": self.mode,
            "state": self.state.value,
            "refunded": self.refunded,
            "charged": self.charged,
        }

    @property
    def charged(self) -> int:
        """What the shopper is out of pocket for this trade now."""
        if self.state == TradeState.PAID:
            return self.amount - self.refunded
        return 0


class SandboxState:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.trades: dict[tuple[str, str], Trade] = {}
        self.default = Scenario()
        self.per_order: dict[str, Scenario] = {}  # by out_trade_no
        self.queued: list[Scenario] = []  # for the next trades created, in order
        self.last_qr: tuple[str, str] | None = None
        # Called (under the lock) when a trade becomes paid: the notifier.
        self.on_paid: list[Callable[[Trade], None]] = []

    def scenario_for(self, out_trade_no: str) -> Scenario:
        with self.lock:
            if out_trade_no in self.per_order:
                return self.per_order[out_trade_no]
            if self.queued:
                self.per_order[out_trade_no] = self.queued.pop(0)
                return self.per_order[out_trade_no]
            # Each trade gets its own copy so fault counters are per trade.
            s = Scenario.from_dict(_scenario_dict(self.default))
            self.per_order[out_trade_no] = s
            return s

    def set_scenario(self, doc: dict[str, Any]) -> None:
        scenario = Scenario.from_dict(doc)
        with self.lock:
            target = doc.get("out_trade_no")
            if target:
                self.per_order[str(target)] = scenario
            elif doc.get("next"):
                self.queued.append(scenario)
            else:
                self.default = scenario

    def reset(self) -> None:
        with self.lock:
            self.trades.clear()
            self.per_order.clear()
            self.queued.clear()
            self.default = Scenario()

    def get(self, platform: str, out_trade_no: str) -> Trade | None:
        with self.lock:
            trade = self.trades.get((platform, out_trade_no))
            if trade is not None:
                self.advance(trade)
            return trade

    def create(
        self, platform: str, out_trade_no: str, amount: int, subject: str, mode: str
    ) -> Trade:
        with self.lock:
            scenario = self.scenario_for(out_trade_no)
            prefix = "2026" if platform == "alipay" else "4200"
            trade = Trade(
                platform=platform,
                out_trade_no=out_trade_no,
                trade_no=prefix + secrets.token_hex(12),
                amount=amount,
                subject=subject,
                mode=mode,
                scenario=scenario,
                created_mono=self.clock.monotonic(),
                created=self.clock.now(),
                buyer="159****" + f"{secrets.randbelow(10000):04d}",
            )
            if mode == "code":
                trade.state = TradeState.PAYING
            self.trades[(platform, out_trade_no)] = trade
            if mode == "qr":
                self.last_qr = (platform, out_trade_no)
            self.advance(trade)
            return trade

    def tombstone(self, platform: str, out_trade_no: str) -> Trade:
        """Cancel/close of a trade the gateway never saw: the number is burnt."""
        trade = self.create(platform, out_trade_no, 0, "", "qr")
        trade.state = TradeState.CLOSED
        return trade

    def pay_after(self, trade: Trade) -> float | None:
        s = trade.scenario
        if s.outcome == "never":
            return None
        if s.pay_after is not None:
            return s.pay_after
        return DEFAULT_QR_PAY_AFTER if trade.mode == "qr" else 0.0

    def advance(self, trade: Trade) -> None:
        """Move a trade along its scenario as time passes."""
        if trade.state not in (TradeState.CREATED, TradeState.PAYING):
            return
        at = self.pay_after(trade)
        if at is None:
            return
        age = self.clock.monotonic() - trade.created_mono
        if (
            trade.mode == "qr"
            and trade.state == TradeState.CREATED
            and age >= at - trade.scenario.confirm
        ):
            trade.state = TradeState.PAYING
        if age >= at:
            self.settle(trade, trade.scenario.outcome == "pay")

    def settle(self, trade: Trade, paid: bool) -> None:
        if paid:
            trade.state = TradeState.PAID
            trade.paid_at = self.clock.now()
            for listener in self.on_paid:
                listener(trade)
        else:
            trade.state = TradeState.CLOSED

    def scan_now(self, platform: str | None, out_trade_no: str | None) -> Trade | None:
        """The demo's "shopper scans now": the latest (or named) QR trade is paid."""
        with self.lock:
            key = (platform or "", out_trade_no or "")
            if out_trade_no is None and self.last_qr is not None:
                key = self.last_qr
            trade = next(
                (
                    t
                    for (p, o), t in self.trades.items()
                    if o == key[1] and (not platform or p == platform)
                ),
                None,
            )
            if trade is not None and trade.state in (TradeState.CREATED, TradeState.PAYING):
                self.settle(trade, True)
            return trade

    def cancel(self, trade: Trade) -> str:
        """Close an unpaid trade or give a paid one's money back: 'close' | 'refund'."""
        action = "refund" if trade.state == TradeState.PAID else "close"
        trade.reversed_paid = trade.state == TradeState.PAID
        trade.state = TradeState.CLOSED
        return action

    def refund(self, trade: Trade, out_refund_no: str, amount: int) -> tuple[Refund | None, str]:
        """(refund, error): idempotent on out_refund_no."""
        existing = trade.refunds.get(out_refund_no)
        if existing is not None:
            return (existing, "") if existing.amount == amount else (None, "mismatch")
        if trade.state != TradeState.PAID:
            return None, "not_paid"
        if amount <= 0 or amount > trade.amount - trade.refunded:
            return None, "too_much"
        refund = Refund(out_refund_no, "R" + secrets.token_hex(12), amount, self.clock.now())
        trade.refunds[out_refund_no] = refund
        return refund, ""

    def find_refund(self, platform: str, out_refund_no: str) -> tuple[Trade, Refund] | None:
        with self.lock:
            for (p, _), trade in self.trades.items():
                if p == platform and out_refund_no in trade.refunds:
                    return trade, trade.refunds[out_refund_no]
        return None

    def view(self) -> list[dict[str, Any]]:
        with self.lock:
            for trade in self.trades.values():
                self.advance(trade)
            return [t.view() for t in self.trades.values()]


def _scenario_dict(s: Scenario) -> dict[str, Any]:
    return {
        "pay_after": s.pay_after,
        "confirm": s.confirm,
        "outcome": s.outcome,
        "decline": s.decline,
        "faults": [
            {"kind": f.kind, "op": f.op, "times": f.times, "after": f.after, "delay": f.delay}
            for f in s.faults
        ],
    }
