"""What issue 12 asked to be on screen besides the failure paths, in both
languages on the real widgets over the sandbox gateways: the counter's tender
screen says whether the till is online and which earlier attempts are being
checked in the background. With POS_SHOTS=DIR the screens are saved there."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.ui.conftest import COLA, WECHAT_CODE, open_tender, ring_up, settle
from tests.ui.test_failure_screens import SILENT, finished_dialog, shot
from ui.app import App
from ui.screens.cashier import CashierScreen

ONLINE = {"en": "Network: online", "zh_CN": "网络：在线"}
OFFLINE = {"en": "Network: offline", "zh_CN": "网络：离线"}
CHECKING = {"en": "being checked in the background", "zh_CN": "正在后台核实"}


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_tender_screen_shows_the_network_and_the_attempt_being_checked(
    app: App, qtbot: Any, cashier: CashierScreen, locale: str
) -> None:
    app.language.set(locale)
    till = app.runtime.till
    till.router.policy = replace(till.router.policy, first_backoff=0.3, max_backoff=1.0)
    panel = cashier.tender_panel
    ring_up(app, qtbot, cashier, COLA)
    open_tender(app, cashier)
    settle(app, lambda: panel.network.isVisible())
    assert panel.network.text() == ONLINE[locale]
    assert not panel.checking.isVisible()
    try:
        app.runtime.sandbox.state.set_scenario({"next": True, **SILENT})
        cashier._pay("wechat", "payment_code", None, WECHAT_CODE)
        finished_dialog(app, cashier).accept()
        settle(app, lambda: panel.checking.isVisible())
        said = panel.checking.text()
        assert CHECKING[locale] in said and ("WeChat" in said or "微信" in said)
        assert "3.50" in said or "¥" in said
        shot(app, cashier, "tender_checking_online")
        # The sync link down: the till says it is offline, in words.
        till.connectivity.link(False)
        panel.poll()
        settle(app, lambda: panel.network.text().startswith(OFFLINE[locale]))
        shot(app, cashier, "tender_offline")
    finally:
        till.connectivity.link(True)
        app.runtime.sandbox.state.reset()
