"""The manager's screen shows the chain's risk alerts about this store,
fetched from a real central server off the UI thread, in Chinese and English;
with the server gone it says it is offline and keeps what it had."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import insert

from pos.canonical import dumps
from pos.clock import SystemClock
from sync.client import enroll
from sync.server import db
from sync.server import models as m
from tests.sync.conftest import ThreadServer
from tests.ui.conftest import MANAGER_PIN, approval, enter_pin, settle
from ui.app import App
from ui.screens.cashier import CashierScreen

SHOTS = Path(os.environ.get("POS_SCREENSHOTS", "out/screenshots"))


def test_the_manager_sees_the_stores_chain_alerts_and_is_told_when_offline(
    app: App, cashier: CashierScreen, tmp_path: Path
) -> None:
    server = ThreadServer(
        db.make_engine(f"sqlite:///{tmp_path / 'server.db'}"), tmp_path / "k.pem", SystemClock()
    )
    try:
        terminal = app.runtime.terminal.terminal
        enroll(terminal, server.url, server.code(terminal.store_id))
        with server.engine.begin() as conn:
            conn.execute(
                insert(m.risk_alerts).values(
                    rule="impossible-travel", store_id=terminal.store_id, terminal_id="T-BJ",
                    seq=7, subject="card", value="9f3c1a7be2" + "0" * 54,
                    detail=dumps({"from_store": "S002", "to_store": terminal.store_id,
                                  "km": 1068, "minutes": 30, "kmh": 2136,
                                  "limit_kmh": 500}).decode(),
                    dedupe="d1", created_at="2026-03-02T02:30:00+00:00",
                )
            )  # fmt: skip
        counter = app.counter
        cashier.manager_button.click()
        enter_pin(approval(app, counter), MANAGER_PIN)
        view = counter.manager.chain_alerts
        counter.manager.tabs.setCurrentWidget(view)
        settle(app, lambda: view.table.rowCount() == 1)
        row = [view.table.item(0, c).text() for c in range(view.table.columnCount())]
        assert row[1:] == [
            "Impossible travel",
            "card 9f3c1a7b...",
            f"Paid at S002, then at {terminal.store_id} 30 min later, 1068 km apart",
            "T-BJ",
        ]
        assert view.line.text().startswith("Alerts about this store from the central server: 1,")
        SHOTS.mkdir(parents=True, exist_ok=True)
        counter.manager.grab().save(str(SHOTS / "chain_alerts_en.png"))
        app.language.set("zh_CN")
        settle(app)
        assert view.table.item(0, 1).text() == "不可能的行程"
        assert "1068 公里" in view.table.item(0, 3).text()
        assert counter.manager.tabs.tabText(counter.manager.tabs.indexOf(view)) == "连锁风控警报"
        counter.manager.grab().save(str(SHOTS / "chain_alerts_zh_CN.png"))

        server.stop()
        counter.manager.refresh_button.click()
        settle(app, lambda: "离线" in view.line.text())
        assert view.table.rowCount() == 1  # what it had stays, said to be as of then
        app.language.set("en")
        settle(app)
        assert view.line.text().startswith("Offline: the server could not be reached.")
        counter.manager.grab().save(str(SHOTS / "chain_alerts_offline_en.png"))
    finally:
        server.stop()
