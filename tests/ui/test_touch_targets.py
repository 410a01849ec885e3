"""Every touch target on the real screens is at least 44 px in both
directions (WCAG 2.2 target size, the shopper and cashier's fingers):
buttons, tabs, list rows and table rows, measured on the laid-out widgets."""

from __future__ import annotations

from tests.ui.conftest import (
    CHIPS,
    COLA,
    KIOSK,
    MANAGER_PIN,
    approval,
    enter_pin,
    open_tender,
    ring_up,
    scan,
    settle,
)
from ui.app import App
from ui.qt import QCheckBox, QListWidget, QPushButton, QTableWidget, QTabWidget, QWidget
from ui.screens.cashier import CashierScreen
from ui.screens.kiosk import KioskWindow

MIN = 44


def small_targets(root: QWidget) -> list[str]:
    """What a finger cannot hit reliably among the visible targets under `root`."""
    out = []
    for b in [*root.findChildren(QPushButton), *root.findChildren(QCheckBox)]:
        if b.isVisible() and (b.height() < MIN or b.width() < MIN):
            out.append(f"button {b.text()!r}: {b.width()}x{b.height()}")
    for tabs in root.findChildren(QTabWidget):
        bar = tabs.tabBar()
        if bar.isVisible():
            for i in range(bar.count()):
                r = bar.tabRect(i)
                if r.height() < MIN or r.width() < MIN:
                    out.append(f"tab {bar.tabText(i)!r}: {r.width()}x{r.height()}")
    for lst in root.findChildren(QListWidget):
        if lst.isVisible():
            for i in range(lst.count()):
                r = lst.visualItemRect(lst.item(i))
                if r.height() < MIN:
                    out.append(f"list row {lst.item(i).text()!r}: {r.height()}")
    for table in root.findChildren(QTableWidget):
        if table.isVisible():
            for row in range(table.rowCount()):
                if table.rowHeight(row) < MIN:
                    out.append(f"table row {row}: {table.rowHeight(row)}")
    return out


def test_the_counter_cart_and_tender_screens(app: App, qtbot, cashier: CashierScreen) -> None:
    ring_up(app, qtbot, cashier, COLA, CHIPS)
    qtbot.keyClicks(cashier.search, "a")  # search hits show as a list
    settle(app, lambda: cashier.hits.isVisible() and cashier.hits.count())
    assert cashier.hits.visualItemRect(cashier.hits.item(0)).height() >= MIN  # was 24 px
    assert small_targets(cashier) == []
    cashier.search.clear()
    open_tender(app, cashier)
    assert small_targets(cashier) == []


def test_the_manager_tabs_and_dialogs(app: App, qtbot, cashier: CashierScreen) -> None:
    cashier.manager_button.click()
    dlg = approval(app, app.counter)
    assert small_targets(dlg) == []
    enter_pin(dlg, MANAGER_PIN)
    manager = app.counter.manager
    settle(app, lambda: app.counter.stack.currentWidget() is manager)
    assert manager.tabs.tabBar().tabRect(0).height() >= MIN  # was 36 px
    for i in range(manager.tabs.count()):
        manager.tabs.setCurrentIndex(i)
        settle(app)
        assert small_targets(manager) == [], manager.tabs.tabText(i)


def test_the_confirm_and_money_back_dialogs(app: App, qtbot, cashier: CashierScreen) -> None:
    ring_up(app, qtbot, cashier, COLA)
    cashier.void_button.click()
    assert small_targets(cashier.confirm_dialog) == []
    cashier.confirm_dialog.reject()


def test_the_kiosk(app: App, qtbot) -> None:
    win = KioskWindow(app.ctx, KIOSK)
    app.scanner.scanned.disconnect()
    app.scanner.scanned.connect(win.on_scan)
    win.resize(1080, 1920)
    win.show()
    try:
        assert small_targets(win) == []
        scan(qtbot, win, COLA)
        settle(app, lambda: win.session.checkout.order is not None)
        assert small_targets(win) == []
    finally:
        win.allow_close = True
        win.close()
