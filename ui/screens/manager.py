"""Manager screens: day close with the drawer counted by denomination and a
reason for over/short, the Z report with charts by hour and by channel,
export to CSV / XLSX / PDF with progress and cancel, refund and void review,
the offline card queue, risk decisions, sync status, settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pos.flows import DayCloseFlow, DayCloseState
from pos.flows.dayclose import EXPORT_FORMATS
from pos.flows.text import Text
from pos.flows.views import Approval, Table, ZView
from pos.messages import Message, msg
from pos.money import Money
from ui.context import UiContext
from ui.ops import Op, Scope
from ui.printing import Printing
from ui.qt import (
    QAbstractItemView,
    QEvent,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QSpinBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ui.screens.chain_alerts import ChainAlertsView
from ui.screens.charts import BarChart
from ui.screens.payment import channel_name
from ui.screens.printer_setup import PrinterTab
from ui.style import TOUCH_MIN
from ui.widgets import MessageLine, ask_approval, button, clear_layout, label


class TableView(QTableWidget):
    """A review table drawn from a Table snapshot in the current language."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(0, 0)
        self._ctx = ctx
        self._table: Table | None = None
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(TOUCH_MIN)  # a row is a touch target
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)

    def show_table(self, table: Table | None) -> None:
        self._table = table
        if table is None:
            return
        self.clearSpans()
        self.setColumnCount(len(table.headers))
        self.setHorizontalHeaderLabels([self._ctx.say(h) for h in table.headers])
        if not table.rows:
            # An empty table says so, rather than leaving a blank panel.
            self.setRowCount(1)
            note = QTableWidgetItem(self._ctx.t("manager.nothing_here_yet"))
            note.setForeground(Qt.GlobalColor.gray)
            self.setItem(0, 0, note)
            if len(table.headers) > 1:
                self.setSpan(0, 0, 1, len(table.headers))
            return
        self.setRowCount(len(table.rows))
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row):
                text = self._ctx.say(cell) if isinstance(cell, (Text, Message)) else cell
                self.setItem(r, c, QTableWidgetItem(text))

    def refresh(self) -> None:
        self.show_table(self._table)


class DayCloseTab(QWidget):
    closed = Signal(object)  # the business date

    def __init__(self, ctx: UiContext, scope: Scope) -> None:
        super().__init__()
        self.ctx = ctx
        self.scope = scope
        self.flow: DayCloseFlow | None = None
        self.export_op: Op[Any] | None = None
        self.out_dir = Path.home()
        self.title = label("", "title")
        self.expected = label("")
        self.counted = label("")
        self.over_short = label("", "total")
        self.grid = QGridLayout()
        self.spins: dict[int, QSpinBox] = {}
        self.reason = QLineEdit()
        self.close_button = button("", "primary", 64)
        self.close_button.clicked.connect(self._close)
        self.export_buttons: dict[str, Any] = {}
        exports = QHBoxLayout()
        for fmt in EXPORT_FORMATS:
            b = button(fmt.upper())
            b.clicked.connect(lambda _=False, f=fmt: self._export(f))
            exports.addWidget(b)
            self.export_buttons[fmt] = b
        self.cancel_export = button("", "danger")
        self.cancel_export.clicked.connect(self._cancel_export)
        exports.addWidget(self.cancel_export)
        self.progress = QProgressBar()
        self.progress.setVisible(False)  # shown from the first export on
        self.message = MessageLine(ctx)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(self.grid)
        for w in (self.expected, self.counted, self.over_short):
            lay.addWidget(w)
        self.reason_name = label("", "muted")
        lay.addWidget(self.reason_name)
        lay.addWidget(self.reason)
        lay.addWidget(self.close_button)
        lay.addLayout(exports)
        lay.addWidget(self.progress)
        lay.addWidget(self.message)
        lay.addStretch(1)
        self.retranslate()

    def retranslate(self) -> None:
        date = self.flow.business_date if self.flow else ""
        self.title.setText(self.ctx.t("manager.close_day_of", date=date))
        self.reason_name.setText(self.ctx.t("manager.reason_for_over_short_needed"))
        self.close_button.setText(self.ctx.t("manager.close_the_day_manager_pin"))
        self.cancel_export.setText(self.ctx.t("manager.cancel_export"))
        for fmt, b in self.export_buttons.items():
            b.setText(self.ctx.t("manager.export_as", fmt=fmt.upper()))
        self._sums()
        self.message.refresh()

    def forget(self) -> None:
        """Nothing to act on until a fresh count arrives: a count typed into an
        earlier visit's flow would be closed against stale figures."""
        self.flow = None
        self.spins = {}
        self._enable()

    def load(self) -> None:
        self.forget()
        port = self.ctx.services.dayclose
        self.ctx.ops.run(
            "day close",
            lambda op: DayCloseFlow(port),
            self.scope,
            self._loaded,
            self.message.show_error,
        )

    def _loaded(self, flow: DayCloseFlow) -> None:
        self.flow = flow
        clear_layout(self.grid)
        self.spins = {}
        for i, d in enumerate(flow.denominations):
            spin = QSpinBox()
            spin.setRange(0, 100000)
            spin.setMinimumHeight(44)
            spin.valueChanged.connect(lambda n, d=d: self._count(d, n))
            self.grid.addWidget(
                label(self.ctx.money(Money(d, flow.expected.currency))), i // 4, (i % 4) * 2
            )
            self.grid.addWidget(spin, i // 4, (i % 4) * 2 + 1)
            self.spins[d] = spin
        self.retranslate()
        self._enable()

    def _count(self, denomination: int, n: int) -> None:
        if self.flow is not None:
            self.flow.set_count(denomination, n)
            self._sums()

    def _sums(self) -> None:
        f = self.flow
        if f is None:
            return
        self.expected.setText(
            self.ctx.t("manager.expected_in_drawer", amount=self.ctx.money(f.expected))
        )
        self.counted.setText(self.ctx.t("manager.counted", amount=self.ctx.money(f.counted)))
        diff = f.over_short
        # The word says which way; the amount is how much, without a sign.
        amount = self.ctx.money(Money(abs(diff.minor), diff.currency))
        if diff.minor > 0:
            text = self.ctx.t("manager.over_by", amount=amount)
        elif diff.minor < 0:
            text = self.ctx.t("manager.short_by", amount=amount)
        else:
            text = self.ctx.t("manager.the_drawer_matches_the_count")
        self.over_short.setText(text)

    def _enable(self) -> None:
        closed = self.flow is not None and self.flow.state is DayCloseState.CLOSED
        counting = self.flow is not None and not closed
        self.close_button.setEnabled(counting)
        self.reason.setEnabled(counting)
        for s in self.spins.values():
            s.setEnabled(counting)
        for b in self.export_buttons.values():
            b.setEnabled(closed and self.export_op is None)
        self.cancel_export.setEnabled(self.export_op is not None)

    def _close(self) -> None:
        flow = self.flow
        if flow is None:
            return
        reason = self.reason.text()
        if flow.over_short.minor and not reason.strip():
            self.message.show_text(
                msg("manager.the_drawer_is_over_or"),
                error=True,
            )
            return

        def closed(report: Any) -> None:
            self.message.show_text(msg("manager.day_closed_the_z_report"))
            self._enable()
            self.closed.emit(flow.business_date)

        def approved(appr: Approval) -> None:
            self.ctx.ops.run(
                "close day",
                lambda op: flow.close(reason, appr),
                self.scope,
                closed,
                self.message.show_error,
            )

        ask_approval(
            self.ctx,
            self,
            "day_close",
            msg("manager.closing_the_day_needs_a"),
            (),
            approved,
            reason=reason,
        )

    def _export(self, fmt: str) -> None:
        flow = self.flow
        if flow is None:
            return
        out = self.out_dir / f"z-{flow.business_date}.{fmt}"
        self.progress.setValue(0)
        self.progress.setVisible(True)

        def work(op: Op[Path]) -> Path:
            return flow.export(fmt, out, op.progress, op.cancel)

        def done(path: Path) -> None:
            self.export_op = None
            self.progress.setValue(self.progress.maximum())
            self.message.show_text(msg("manager.exported_to", path=str(path)))
            self._enable()

        def failed(exc: BaseException) -> None:
            self.export_op = None
            self.message.show_error(exc)
            self._enable()

        self.export_op = self.ctx.ops.run(
            "export", work, self.scope, done, failed, on_progress=self._progress, lane="io"
        )
        self._enable()

    def _progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def _cancel_export(self) -> None:
        if self.export_op is not None:
            self.export_op.cancel.cancel()


class ZReportTab(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.view: ZView | None = None
        self.summary = label("", "title")
        self.by_hour = BarChart("#1c7ed6")
        self.by_channel = BarChart("#f59f00")
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        row = QHBoxLayout()
        row.addWidget(self.by_hour, 3)
        row.addWidget(self.by_channel, 2)
        lay.addLayout(row, 1)

    def show_view(self, view: ZView | None) -> None:
        self.view = view
        if view is None:
            return
        money = self.ctx.money
        text = self.ctx.t(
            "manager.z_summary",
            date=view.business_date,
            count=view.sales_count,
            gross=money(view.gross),
            refunds=money(view.refunds),
            net=money(view.net),
        )
        if view.z_number is not None:
            text = f"Z{view.z_number:04d} · " + text
        self.summary.setText(text)
        self.by_hour.set_bars(self.ctx.t("manager.sales_by_hour"), _opening_hours(view))
        self.by_channel.set_bars(
            self.ctx.t("manager.sales_by_channel"),
            [(self.ctx.say(channel_name(c)), m) for c, m in view.by_channel],
        )


def _opening_hours(view: ZView) -> list[tuple[str, Money]]:
    """Every hour from 7:00 to 22:00 (wider when sales fell outside), so one busy
    hour reads as one bar among the day's, not a wall."""
    sold = dict(view.by_hour)
    first = min([7, *sold])
    last = max([22, *sold])
    zero = Money.zero(view.gross.currency)
    return [(f"{h:02d}", sold.get(h, zero)) for h in range(first, last + 1)]


class ManagerScreen(QWidget):
    back = Signal()

    def __init__(self, ctx: UiContext, printing: Printing | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.scope = Scope("manager")
        self.printer = PrinterTab(ctx, self.scope, printing)
        self.tabs = QTabWidget()
        self.day_close = DayCloseTab(ctx, self.scope)
        self.day_close.closed.connect(self._load_z)
        self.z = ZReportTab(ctx)
        self.tables = {
            k: TableView(ctx)
            for k in ("reviews", "offline", "risk", "sync", "settings", "released")
        }
        self.tabs.addTab(self.day_close, "")
        self.tabs.addTab(self.z, "")
        for t in self.tables.values():
            self.tabs.addTab(t, "")
        self.tabs.addTab(self.printer, "")
        self.chain_alerts = ChainAlertsView(ctx, self.scope, ctx.services.chain_alerts)
        self.tabs.addTab(self.chain_alerts, "")
        self.back_button = button("")
        self.back_button.clicked.connect(self._back)
        self.refresh_button = button("")
        self.refresh_button.clicked.connect(self.load)
        self.message = MessageLine(ctx)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addWidget(self.refresh_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.message)
        lay.addLayout(row)
        self.retranslate()

    def retranslate(self) -> None:
        names = [
            self.ctx.t("manager.day_close"),
            self.ctx.t("manager.z_report"),
            self.ctx.t("manager.refunds_and_voids"),
            self.ctx.t("manager.offline_card_queue"),
            self.ctx.t("manager.risk_decisions"),
            self.ctx.t("manager.tab.sync"),
            self.ctx.t("manager.tab.settings"),
            self.ctx.t("gaps.tab.released"),
            self.ctx.t("screens.printer.tab"),
        ]
        names.append(self.ctx.t("chainrisk.tab"))
        for i, n in enumerate(names):
            self.tabs.setTabText(i, n)
        self.chain_alerts.retranslate()
        self.back_button.setText(self.ctx.t("manager.back_to_the_till"))
        self.refresh_button.setText(self.ctx.t("manager.refresh"))
        for t in self.tables.values():
            t.refresh()
        self.z.show_view(self.z.view)
        self.day_close.retranslate()
        self.message.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _run(self, name: str, fn: Callable[[], Any], then: Callable[[Any], None]) -> None:
        self.ctx.ops.run(name, lambda op: fn(), self.scope, then, self.message.show_error)

    def load(self) -> None:
        r = self.ctx.services.review
        date = self.ctx.services.dayclose.business_date
        self.day_close.load()
        self._run("reviews", lambda: r.refunds_and_voids(date()), self.tables["reviews"].show_table)
        self._run("offline", r.offline_card_queue, self.tables["offline"].show_table)
        self._run("risk", lambda: r.risk_decisions(date()), self.tables["risk"].show_table)
        self._run("sync", r.sync_status, self.tables["sync"].show_table)
        released = self.tables["released"].show_table
        self._run("released", lambda: r.released_attempts(date()), released)
        self._run("settings", r.settings, self.tables["settings"].show_table)
        self._run("z", lambda: r.z_view(date()), self.z.show_view)
        self.chain_alerts.load()

    def _load_z(self, business_date: str) -> None:
        r = self.ctx.services.review
        self._run("z", lambda: r.z_view(business_date), self.z.show_view)
        self.tabs.setCurrentWidget(self.z)

    def _back(self) -> None:
        self.scope.leave()
        self.day_close.forget()
        self.back.emit()
