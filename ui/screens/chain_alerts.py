"""The manager's view of the chain's risk alerts about this store: what the
central server found across every store (a card in two cities, one card at
many tills), fetched off the UI thread. Offline it says so, and keeps what it
last had."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pos.errors import NotFound
from pos.flows.text import Said, message_of
from pos.messages import Message, msg
from pos.money import Money
from sync.schemas import StoreAlert, StoreAlerts
from sync.transport import LinkError
from ui.context import UiContext
from ui.ops import Scope
from ui.qt import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from ui.widgets import label

FetchAlerts = Callable[[], StoreAlerts]
_COLUMNS = ("time", "rule", "subject", "what", "terminal")
_RULES = frozenset(
    {
        "impossible-travel",
        "card-velocity",
        "account-velocity",
        "card-stores",
        "cashier-refunds-no-receipt",
        "cashier-refunds",
        "cashier-voids",
        "store-anomaly",
    }
)


def rule_name(rule: str) -> Message:
    if rule in _RULES:
        return msg("chainrisk.rule." + rule.replace("-", "_"))
    return msg("chainrisk.rule.other", rule=rule)


def subject_text(alert: StoreAlert) -> Message:
    value = alert.value
    if alert.subject in ("card", "account") and len(value) > 12:
        value = value[:8] + "..."  # a keyed token: the start tells cards apart
    kind = alert.subject if alert.subject in ("card", "account", "cashier") else "store"
    return msg(f"chainrisk.subject.{kind}", value=value)


def what_text(alert: StoreAlert) -> Message | str:
    """The figures behind a finding, in words; "" for what has none."""
    d: dict[str, Any] = alert.detail
    try:
        if alert.rule == "impossible-travel":
            return msg(
                "chainrisk.what.impossible_travel",
                from_store=d["from_store"],
                to_store=d["to_store"],
                minutes=d["minutes"],
                km=d["km"],
            )
        if alert.rule in ("card-velocity", "account-velocity"):
            return msg("chainrisk.what.velocity", count=d["sales_10m"])
        if alert.rule == "card-stores":
            return msg("chainrisk.what.stores", count=len(d["stores_1h"]))
        if alert.rule == "cashier-refunds-no-receipt":
            return msg("chainrisk.what.refunds_no_receipt", count=d["refunds_no_receipt_24h"])
        if alert.rule == "cashier-refunds":
            return msg("chainrisk.what.refunds", count=d["refunds_1h"])
        if alert.rule == "cashier-voids":
            return msg("chainrisk.what.voids", count=d["voids_1h"])
        if alert.rule == "store-anomaly":
            return msg(
                "chainrisk.what.store",
                amount=Money(int(d["amount_minor"]), "CNY"),
                usual=Money(int(d["median_minor"]), "CNY"),
                z=d["z"],
            )
    except (KeyError, TypeError, ValueError):
        return ""  # a server newer than this program: the finding's name still shows
    return ""


class ChainAlertsView(QWidget):
    """A table of the store's chain alerts and a line saying where they stand."""

    def __init__(self, ctx: UiContext, scope: Scope, fetch: FetchAlerts | None) -> None:
        super().__init__()
        self.ctx = ctx
        self.scope = scope
        self.fetch = fetch
        self.alerts: list[StoreAlert] = []
        self.as_of = ""
        self.status: Said = msg("chainrisk.loading" if fetch else "chainrisk.not_enrolled")
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.line = label("", "muted")
        self.line.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.line)
        lay.addWidget(self.table, 1)
        self.retranslate()

    def load(self) -> None:
        """Ask the server, off the UI thread; the answer or the failure comes back here."""
        if self.fetch is None:
            return
        fetch = self.fetch
        self.ctx.ops.run("chain-alerts", lambda op: fetch(), self.scope, self.shown, self.failed)

    def _now(self) -> str:
        return self.ctx.services.clock.now().astimezone().strftime("%H:%M:%S")

    def shown(self, answer: StoreAlerts) -> None:
        self.alerts = list(answer.alerts)
        self.as_of = self._now()
        code = "chainrisk.online" if self.alerts else "chainrisk.none"
        self.status = msg(code, count=len(self.alerts), time=self.as_of)
        self.retranslate()

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, NotFound):
            self.status = msg("chainrisk.not_enrolled")
        elif isinstance(exc, LinkError):
            self.status = (
                msg("chainrisk.offline", count=len(self.alerts), time=self.as_of)
                if self.alerts
                else msg("chainrisk.offline_none")
            )
        else:
            self.status = message_of(exc)
        self.retranslate()

    def retranslate(self) -> None:
        t, say = self.ctx.t, self.ctx.say
        self.table.setHorizontalHeaderLabels([t(f"chainrisk.col.{c}") for c in _COLUMNS])
        self.line.setText(say(self.status))
        self.table.setRowCount(len(self.alerts))
        for r, a in enumerate(self.alerts):
            what = what_text(a)
            cells = (
                _local_time(a.created_at),
                say(rule_name(a.rule)),
                say(subject_text(a)),
                say(what) if isinstance(what, Message) else what,
                a.terminal_id,
            )
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))


def _local_time(iso_text: str) -> str:
    try:
        return datetime.fromisoformat(iso_text).astimezone().strftime("%m-%d %H:%M")
    except ValueError:
        return iso_text
