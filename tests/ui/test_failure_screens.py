"""What the cashier and the shopper read when a payment goes wrong, in both
languages, on the real widgets over the sandbox gateways: a QR code whose
create call was torn (known unpaid: take payment another way), a gateway that
stops answering (let go within the hold: another tender may be taken), and
the kiosk's failure (the shopper told what to do, the attendant called, the
cart held). With POS_SHOTS=DIR the screens are saved there as PNGs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pos.events import Event
from pos.flows.kiosk import KioskConfig
from pos.flows.tender import TenderState
from tests.ui.conftest import ALIPAY_CODE, COLA, KIOSK, WECHAT_CODE, open_tender, ring_up, settle
from ui.app import App
from ui.qt import QWidget
from ui.screens.cashier import CashierScreen
from ui.screens.kiosk import KioskWindow
from ui.screens.payment import PaymentDialog

SILENT = {"faults": [{"kind": "5xx", "op": "*", "times": 1000, "after": False}]}


def shot(app: App, widget: QWidget, name: str) -> None:
    out = os.environ.get("POS_SHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(out) / f"{name}_{app.language.locale}.png"))


def finished_dialog(app: App, parent: QWidget) -> PaymentDialog:
    def done() -> list[PaymentDialog]:
        return [d for d in parent.findChildren(PaymentDialog) if d.outcome is not None]

    settle(app, done, timeout=20, idle=False)
    return done()[-1]


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_a_torn_qr_code_is_known_unpaid_and_cash_is_offered_at_once(
    app: App, qtbot: Any, cashier: CashierScreen, locale: str
) -> None:
    app.language.set(locale)
    ring_up(app, qtbot, cashier, COLA)
    open_tender(app, cashier)
    app.runtime.sandbox.state.set_scenario(
        {"next": True, "faults": [{"kind": "torn", "op": "start"}]}
    )
    cashier._pay("alipay", "qr", None)
    dlg = finished_dialog(app, cashier)
    text = dlg.status.text()
    assert ("never reached the screen" in text) if locale == "en" else ("付款码未能显示" in text)
    assert not dlg.qr.isVisible()  # no empty frame saying "scan this"
    tender = cashier.flow.tender
    assert tender is not None and tender.state is TenderState.CHOOSING
    shot(app, dlg, "payment_qr_never_shown")


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_a_silent_gateway_is_let_go_within_the_hold(
    app: App, qtbot: Any, cashier: CashierScreen, locale: str
) -> None:
    app.language.set(locale)
    app.runtime.till.router.policy = _short_hold(app)
    ring_up(app, qtbot, cashier, COLA)
    open_tender(app, cashier)
    app.runtime.sandbox.state.set_scenario({"next": True, **SILENT})
    cashier._pay("wechat", "payment_code", None, WECHAT_CODE)
    dlg = finished_dialog(app, cashier)
    text = dlg.status.text()
    assert ("take payment another way" in text) if locale == "en" else ("改用其他方式" in text)
    tender = cashier.flow.tender
    assert tender is not None and tender.state is TenderState.CHOOSING and tender.checking
    shot(app, dlg, "payment_no_answer")
    app.runtime.sandbox.state.reset()


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_kiosk_tells_the_shopper_calls_the_attendant_and_holds_the_cart(
    app: App, qtbot: Any, locale: str
) -> None:
    app.language.set(locale)
    app.runtime.till.router.policy = _short_hold(app)
    win = KioskWindow(app.ctx, KIOSK, KioskConfig(idle_timeout_s=2, warning_s=1))
    win.resize(1024, 768)
    win.show()
    try:
        win.on_scan(COLA)
        settle(app, lambda: win.session.checkout.order is not None)
        app.runtime.sandbox.state.set_scenario({"next": True, **SILENT})
        win.on_scan(ALIPAY_CODE)  # the shopper's payment code: the platform never answers
        dlg = finished_dialog(app, win)
        said = dlg.status.text()
        assert ("do not pay again" in said) if locale == "en" else ("请不要重复付款" in said)
        assert said == win.message.text()
        settle(app, lambda: win.session.held)
        shot(app, dlg, "kiosk_payment_dialog_checking")
        dlg.accept()
        settle(app)
        shot(app, win, "kiosk_cart_held_for_attendant")
        # Idle past the timeout: the cart with money in doubt is not dropped.
        qtbot.wait(3000)
        win.tick()
        settle(app)
        assert win.session.checkout.order is not None and win.session.state.value != "attract"
        till = app.runtime.till
        with till.terminal.db.read() as conn:
            (calls,) = conn.execute(
                "SELECT count(*) FROM journal WHERE type = ?", (Event.KIOSK_ATTENDANT_CALLED,)
            ).fetchone()
        assert calls == 1
    finally:
        app.runtime.sandbox.state.reset()
        win.allow_close = True
        win.close()


def _short_hold(app: App) -> Any:
    from dataclasses import replace

    # The product's hold, with a shorter first backoff so the test does not idle.
    return replace(app.runtime.till.router.policy, first_backoff=0.3, max_backoff=1.0)
