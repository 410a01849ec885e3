"""The manager's ports over the terminal: the drawer count and day close, the
Z report, exports, and the review tables (refunds and voids, the offline card
queue, risk decisions, sync status, settings). Reads are plain queries on the
store and its journal; closing and exporting go through pos.reports."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pos.auth import Approval
from pos.canonical import loads
from pos.clock import parse_iso
from pos.errors import NotAllowed, PosError
from pos.events import Event
from pos.flows.cancel import Cancelled, CancelToken
from pos.flows.ports import Progress
from pos.flows.text import Said, Text
from pos.flows.views import CashCount, Table, ZView
from pos.messages import msg
from pos.money import Money
from pos.order.tenders import channel_label
from pos.payments.router import PaymentRouter
from pos.reports.compute import ReportContext
from pos.reports.exports import export
from pos.reports.model import SettlementReport
from pos.reports.tables import report_doc
from pos.reports.zreport import close_day, daily_report, x_report
from pos.services.terminal_services import TerminalServices
from pos.store import outbox

# How a let-go attempt ended (pos.services.released), and "checking": not yet.
_ENDS = (
    "closed",
    "reversed",
    "refunded",
    "attached",
    "refund_open",
    "refund_failed",
    "already_recorded",
    "checking",
)

# Notes and coins of the renminbi in fen, largest first.
DENOMINATIONS: dict[str, list[int]] = {
    "CNY": [10000, 5000, 2000, 1000, 500, 100, 50, 10],
    "HKD": [100000, 50000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10],
}


def _t(code: str, **params: Any) -> Said:
    return msg(code, **params)


def _action(action: str) -> Said:
    if action in ("allow", "review", "block"):
        return _t(f"manager.risk.{action}")
    return Text(action, action)  # a decision this version does not know: shown as stored


class Backoffice:
    """Implements DayClosePort and ReviewPort."""

    def __init__(self, services: TerminalServices, router: PaymentRouter | None = None) -> None:
        self.services = services
        self.router = router

    @property
    def _db(self):  # type: ignore[no-untyped-def]
        return self.services.terminal.db

    # -- DayClosePort ----------------------------------------------------------------------
    def business_date(self) -> str:
        return self.services.checkout.business_date()

    def _ctx(self) -> ReportContext:
        t, checkout = self.services.terminal, self.services.checkout
        return ReportContext(
            t.store_id,
            t.terminal_id,
            checkout.settings.currency,
            checkout.timezone,
            checkout.business_date,
        )

    def _report(self, business_date: str) -> SettlementReport:
        """The Z report once the day is closed, the figures so far before."""
        return daily_report(
            self.services.terminal.db,
            self._ctx(),
            business_date,
            self.services.terminal.clock.now(),
        )

    def expected_cash(self, business_date: str) -> Money:
        """Cash the drawer should hold: the float, plus cash taken, less cash given back."""
        t = self.services.terminal
        return x_report(t.db, self._ctx(), business_date, t.clock.now()).cash.expected

    def denominations(self, currency: str) -> list[int]:
        try:
            return list(DENOMINATIONS[currency])
        except KeyError:
            raise NotAllowed(msg("manager.dayclose.no_notes", currency=currency)) from None

    def close_day(
        self, business_date: str, counted: CashCount, reason: str, approval: Approval
    ) -> dict[str, Any]:
        t = self.services.terminal
        closed = close_day(
            t.db,
            t.journal,
            self._ctx(),
            business_date,
            now=t.clock.now(),
            counted=counted.total(),
            reason=reason,
            approval=approval,
        )
        return closed.report.to_dict()

    def export(
        self, business_date: str, fmt: str, out: Path, progress: Progress, cancel: CancelToken
    ) -> Path:
        def step(done: int, total: int) -> None:
            if cancel.cancelled:
                raise Cancelled()
            progress(done, total)

        report = self._report(business_date)
        return export(report_doc(report, self.services.checkout.timezone), fmt, out, step)

    # -- ReviewPort --------------------------------------------------------------------------
    def z_view(self, business_date: str) -> ZView:
        r = self._report(business_date)
        return ZView(
            business_date=r.business_date,
            sales_count=r.sales.count,
            gross=r.gross,
            refunds=r.refunds.amount,
            net=r.net,
            by_hour=tuple((h.hour, h.sales.amount) for h in r.hours),
            by_channel=tuple((t.channel, t.payments.amount) for t in r.tenders),
            tax_by_rate=tuple((t.rate_bp, t.tax) for t in r.tax_by_rate),
            z_number=r.z_no,
        )

    def _local(self, stamp: str, fmt: str = "%H:%M:%S") -> str:
        """A stored time (UTC) as the store's wall clock reads it."""
        try:
            at = parse_iso(stamp)
        except (TypeError, ValueError):
            return str(stamp)[:19]
        return at.astimezone(self.services.checkout.timezone).strftime(fmt)

    def _journal(self, types: Sequence[str], business_date: str | None) -> list[sqlite3.Row]:
        """Entries of `types`, newest first: all of one business day, or the
        newest 500 when no day is named. An entry from before its event carried
        a business date (a void, before version 2) counts on the day of its time."""
        marks = ",".join("?" * len(types))
        limit = " LIMIT 500" if business_date is None else ""
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT seq, time, type, payload FROM journal WHERE type IN ({marks})"
                f" ORDER BY seq DESC{limit}",
                tuple(types),
            ).fetchall()
        checkout = self.services.checkout
        out = []
        for r in rows:
            payload = loads(r[3])
            day = payload.get("business_date") or checkout.business_date(parse_iso(r[1]))
            if business_date is None or day == business_date:
                out.append((r[0], r[1], r[2], payload))
        return out  # type: ignore[return-value]

    def refunds_and_voids(self, business_date: str) -> Table:
        currency = self.services.checkout.settings.currency
        rows = []
        for seq, time, kind, p in self._journal(
            (Event.REFUND_COMPLETED, Event.ORDER_VOIDED), business_date
        ):
            if kind == Event.REFUND_COMPLETED:
                refund = p.get("refund", {})
                amount = Money(int(refund.get("amount_minor", 0)), currency)
                who = refund.get("approval", {}).get("user_id", "")
                what, reason = _t("manager.table.refund"), refund.get("reason", "")
            else:
                amount = Money(
                    sum(int(t.get("amount_minor", 0)) for t in p.get("tenders", [])), currency
                )
                who = p.get("approver_id") or ""
                what, reason = _t("manager.table.void"), p.get("reason", "")
            rows.append(
                (
                    str(seq),
                    self._local(time),
                    what,
                    p.get("order_id", ""),
                    amount.amount_text(),
                    str(who),
                    str(reason),
                )
            )
        return Table(
            (
                _t("manager.table.seq"),
                _t("manager.table.time"),
                _t("manager.table.kind"),
                _t("manager.table.order"),
                _t("manager.table.amount"),
                _t("manager.table.approved_by"),
                _t("manager.table.reason"),
            ),
            tuple(rows),
        )

    def offline_card_queue(self) -> Table:
        with self._db.read() as conn:
            try:
                rows = conn.execute(
                    "SELECT o.stored_at, p.order_id, p.masked_pan, o.amount_minor, o.currency,"
                    " o.forward_state, o.attempts, o.response_code FROM card_offline o"
                    " JOIN card_payments p USING (intent_id) ORDER BY o.stored_at DESC LIMIT 500"
                ).fetchall()
            except sqlite3.OperationalError:
                rows = []  # a store made before card payments existed
        return Table(
            (
                _t("manager.table.stored"),
                _t("manager.table.order"),
                _t("manager.table.card"),
                _t("manager.table.amount"),
                _t("manager.table.state"),
                _t("manager.table.tries"),
                _t("manager.table.response"),
            ),
            tuple(
                (
                    self._local(r[0], "%Y-%m-%d %H:%M"),
                    r[1],
                    r[2],
                    Money(int(r[3]), r[4]).amount_text(),
                    r[5],
                    str(r[6]),
                    r[7] or "",
                )
                for r in rows
            ),
        )

    def risk_decisions(self, business_date: str) -> Table:
        rows = []
        for seq, time, _kind, p in self._journal((Event.RISK_DECISION,), None):
            said = [
                x if isinstance(x, dict) else {"zh": str(x), "en": str(x)}
                for x in p.get("reasons", [])
            ]
            # The reasons as the journal recorded them, in both languages.
            reasons = Text(
                "；".join(str(x.get("zh", "")) for x in said),
                "; ".join(str(x.get("en", "")) for x in said),
            )
            action = str(p.get("action", ""))
            rows.append(
                (
                    str(seq),
                    self._local(time),
                    _action(action),
                    channel_label(str(p.get("channel", ""))),
                    reasons,
                    ", ".join(p.get("rule_ids", [])),
                )
            )
        return Table(
            (
                _t("manager.table.seq"),
                _t("manager.table.time"),
                _t("manager.table.decision"),
                _t("manager.table.channel"),
                _t("manager.table.reasons"),
                _t("manager.table.rules"),
            ),
            tuple(rows),
        )

    def released_attempts(self, business_date: str) -> Table:
        """Payments the till let go of (no answer in time) on `business_date`,
        newest first, and how each ended: closed, reversed or refunded to the
        shopper, attached to its order, or still being checked."""
        currency = self.services.checkout.settings.currency
        ended = {
            str(p.get("intent_id", "")): str(p.get("action", ""))
            for _seq, _time, _kind, p in reversed(
                self._journal((Event.PAYMENT_RELEASED_SETTLED,), None)
            )
        }
        still_open = (
            {i.intent_id for i in self.router.intents.released_open()}
            if self.router is not None
            else set()
        )
        rows = []
        for _seq, time, _kind, p in self._journal((Event.PAYMENT_RELEASED,), business_date):
            intent_id = str(p.get("intent_id", ""))
            action = ended.get(intent_id) or ("checking" if intent_id in still_open else "")
            amount = Money(int(p.get("amount_minor", 0)), str(p.get("currency") or currency))
            rows.append(
                (
                    self._local(time),
                    self._receipt_no(str(p.get("order_id", ""))),
                    channel_label(str(p.get("channel", ""))),
                    amount.amount_text(),
                    _t(f"gaps.released.{action}" if action in _ENDS else "gaps.released.unknown"),
                )
            )
        return Table(
            (
                _t("manager.table.time"),
                _t("gaps.table.receipt"),
                _t("manager.table.channel"),
                _t("manager.table.amount"),
                _t("gaps.table.outcome"),
            ),
            tuple(rows),
        )

    def _receipt_no(self, order_id: str) -> str | Said:
        try:
            receipt = self.services.checkout.get(order_id).receipt_no
        except (KeyError, PosError):
            receipt = None
        return receipt or _t("gaps.released.no_receipt")

    def sync_status(self) -> Table:
        clock = self.services.terminal.clock
        with self._db.read() as conn:
            backlog = outbox.backlog(conn)
            age = outbox.oldest_age(conn, clock.now())
            acked = outbox.acked_seq(conn)
        waiting = (
            _t("manager.sync.none_waiting")
            if age is None
            else _t("manager.sync.seconds", seconds=int(age.total_seconds()))
        )
        rows: tuple[tuple[str | Said, ...], ...] = (
            (_t("manager.table.backlog"), str(backlog)),
            (_t("manager.table.oldest"), waiting),
            (_t("manager.table.acked"), str(acked)),
        )
        return Table((_t("manager.table.item"), _t("manager.table.value")), rows)

    def settings(self) -> Table:
        t = self.services.terminal
        rows: list[tuple[str | Said, ...]] = [
            (_t("manager.table.terminal"), t.terminal_id),
            (_t("manager.table.store"), t.store_id),
            (_t("manager.table.data_dir"), str(t.data_dir)),
            (
                _t("manager.table.keystore"),
                _t("manager.settings.demo_keystore")
                if t.demo_keystore
                else _t("manager.settings.os_keyring"),
            ),
        ]
        if self.router is not None:
            up = self.router.available()
            for name in self.router.channel_names:
                label = channel_label(name)
                rows.append(
                    (
                        _t("manager.settings.channel", channel=label),
                        _t("manager.settings.up") if name in up else _t("manager.settings.down"),
                    )
                )
        return Table((_t("manager.table.setting"), _t("manager.table.value")), tuple(rows))
