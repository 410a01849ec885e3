"""`pos sale --pay alipay|wechat` and `pos refund` end to end: the real CLI,
the real router and channels, the sandbox gateways over HTTP on loopback."""

from __future__ import annotations

import io
import json
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pos.cli.context import CliContext
from pos.cli.main import build_parser
from pos.clock import SystemClock
from pos.errors import InvalidInput, NotAllowed
from pos.money import Money
from pos.payments.bills import parse_alipay_bill, parse_wechat_bill
from pos.payments.channel import PaymentMode
from pos.payments.consistency import payments_agree_with_journal
from pos.payments.registry import open_router
from pos.payments.sandbox.keys import SandboxKeys, write_terminal_config
from pos.payments.sandbox.server import SandboxServer
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision
from tests.pos.payments.conftest import AUTH_CODES, RecordingHandler
from tests.pos.services.conftest import CASHIER_PIN, DEMO_CATALOG, MANAGER_PIN


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sandbox-keys")
    SandboxKeys.load_or_create(root)
    return root / "sandbox"


@pytest.fixture
def till(tmp_path: Path, keys_dir: Path):
    data = tmp_path / "till"
    terminal = provision(data, "demo", "S001", "T01", SystemClock())
    services = TerminalServices.wrap(terminal)
    t = services.terminal
    import_products(
        t.db, t.journal, t.clock, read_catalog_file(DEMO_CATALOG, "CNY"), replace=True, source="t"
    )
    services.users.add("boss", "Wang Li", "manager", MANAGER_PIN)
    services.users.add("c1", "Zhang Wei", "cashier", CASHIER_PIN)
    services.close()
    shutil.copytree(keys_dir, data / "sandbox")
    server = SandboxServer(data, SystemClock()).start()
    write_terminal_config(
        data, server.keys.terminal_config(server.base_url, poll_interval=0.2, payment_timeout=20.0)
    )
    yield data, server
    server.stop()


def run(data: Path, *argv: str) -> tuple[int, dict]:
    out = io.StringIO()
    ctx = CliContext(data_dir=data, as_json=True, out=out, err=io.StringIO())
    ctx.read_pin = lambda who: MANAGER_PIN if who == "boss" else CASHIER_PIN
    args = build_parser().parse_args(list(argv))
    code = args.func(args, ctx)
    return code, json.loads(out.getvalue()) if out.getvalue().strip() else {}


def code_sale(data: Path, channel: str, item: str) -> tuple[int, dict]:
    """`pos sale` paid by the shopper's payment code."""
    code = AUTH_CODES[channel]
    return run(
        data, "sale", "--cashier", "c1", "--item", item, "--pay", channel, "--auth-code", code
    )


def shopper_pays(server: SandboxServer, platform: str) -> None:
    """The shopper scans the QR as soon as the till shows one."""

    def scan() -> None:
        for _ in range(200):
            if server.state.scan_now(platform, None) is not None:
                return
            time.sleep(0.05)

    threading.Thread(target=scan, daemon=True).start()


def test_sale_paid_by_alipay_qr_when_the_shopper_scans(till):
    data, server = till

    shopper_pays(server, "alipay")
    code, sale = run(data, "sale", "--cashier", "c1", "--item", "DRK-001:2", "--pay", "alipay")
    assert code == 0
    assert sale["state"] == "paid" and sale["receipt_no"]
    assert [t["channel"] for t in sale["tenders"]] == ["alipay"]
    assert sale["tenders"][0]["reference"]


def test_sale_paid_by_wechat_payment_code_then_refunded_on_wechat(till):
    data, server = till
    code, sale = code_sale(data, "wechat", "SNK-001")
    assert code == 0 and sale["tenders"][0]["channel"] == "wechat"
    code, refund = run(
        data,
        "refund",
        sale["receipt_no"],
        "--cashier",
        "c1",
        "--approver",
        "boss",
        "--amount",
        "2.00",
    )
    assert code == 0
    assert refund["tenders"] == [{"channel": "wechat", "amount": "2.00"}]
    refunded = [t for t in server.state.trades.values() if t.refunded]
    assert [t.refunded for t in refunded] == [200]
    with TerminalServices.open(data) as services:
        assert services.verify().ok
        assert services.terminal.verify_journal([payments_agree_with_journal]).ok


def test_split_tender_cash_then_wechat_payment_code(till):
    data, server = till
    code, sale = run(
        data,
        "sale",
        "--cashier",
        "c1",
        "--item",
        "DLY-005",
        "--pay",
        "cash:10",
        "--pay",
        "wechat",
        "--auth-code",
        "134567890123456789",
    )
    assert code == 0 and sale["state"] == "paid"
    assert [(t["channel"], t["amount"]) for t in sale["tenders"]] == [
        ("cash", "10.00"),
        ("wechat", "19.90"),
    ]
    assert [t.amount for t in server.state.trades.values()] == [1990]


def test_declined_payment_code_leaves_the_order_open_and_charges_nothing(till):
    data, server = till
    server.state.set_scenario({"next": True, "decline": "NOTENOUGH"})
    with pytest.raises(NotAllowed, match=r"(?i)wechat") as err:
        run(
            data,
            "sale",
            "--cashier",
            "c1",
            "--item",
            "SNK-001",
            "--pay",
            "wechat",
            "--auth-code",
            "134567890123456789",
        )
    assert "stays open" in str(err.value)
    assert sum(t.charged for t in server.state.trades.values()) == 0
    with TerminalServices.open(data) as services:
        [left] = services.checkout.open_orders()
        assert left.order.tenders == ()
    # The error names the order, so it can be paid another way.
    assert left.order.order_id in str(err.value)
    assert err.value.msg is not None and err.value.msg.params["order_id"] == left.order.order_id


def test_payment_recover_attaches_a_payment_the_till_never_recorded(till):
    data, server = till
    with TerminalServices.open(data) as services:
        order_id = services.checkout.new_order("c1").order_id
        services.checkout.add_item(order_id, "SNK-001")
        total = services.checkout.get(order_id).order.total
        router, _ = open_router(services.terminal)
        outcome = router.pay(
            order_id,
            "alipay",
            total,
            PaymentMode.PAYMENT_CODE,
            RecordingHandler(),
            auth_code="286543210987654321",
        )
        assert outcome.paid

    code, report = run(data, "payment", "recover")

    assert code == 0 and report["problems"] == []
    [stray] = report["strays"]
    assert stray["action"] == "attached" and stray["receipt_no"]
    assert stray["amount"] == total.amount_text()
    assert sum(t.charged for t in server.state.trades.values()) == total.minor
    code, again = run(data, "payment", "recover")
    assert code == 0 and again["strays"] == []
    code, verified = run(data, "journal", "verify")
    assert code == 0, verified
    with TerminalServices.open(data) as services:
        assert services.terminal.verify_journal([payments_agree_with_journal]).ok


def test_sale_paid_by_wechat_qr_with_the_platforms_notification(till):
    data, server = till
    # The first scheduled query would come after the payment window has closed:
    # only the notification can get this sale confirmed.
    sections = server.keys.terminal_config(
        server.base_url, poll_interval=60.0, payment_timeout=20.0
    )
    write_terminal_config(data, {**sections, "notify": {"listen": "127.0.0.1:0"}})

    shopper_pays(server, "wechat")
    code, sale = run(data, "sale", "--cashier", "c1", "--item", "DRK-002", "--pay", "wechat")

    assert code == 0 and sale["state"] == "paid"
    for _ in range(100):
        if server.notifier.acknowledged:
            break
        time.sleep(0.05)
    [acknowledged] = server.notifier.acknowledged
    assert acknowledged.platform == "wechat" and acknowledged.url.endswith("/notify/wechat")


def test_payment_bills_saves_each_platforms_daily_bill(till, tmp_path):
    data, _ = till
    for channel in ("wechat", "alipay"):
        assert code_sale(data, channel, "SNK-001")[0] == 0
    today = (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()

    code, wechat = run(data, "payment", "bills", "--channel", "wechat", "--date", today)
    assert code == 0 and (wechat["payments"], wechat["refunds"]) == (1, 0)
    assert Path(wechat["file"]) == data / "bills" / f"wechat-{today}.csv"
    assert parse_wechat_bill(Path(wechat["file"]).read_bytes())[0].kind == "payment"

    out = tmp_path / "alipay.zip"
    code, alipay = run(
        data, "payment", "bills", "--channel", "alipay", "--date", today, "--out", str(out)
    )
    assert code == 0 and alipay["file"] == str(out) and alipay["payments"] == 1
    [row] = parse_alipay_bill(out.read_bytes())
    assert Money.parse(alipay["paid"]) == row.amount


def test_payment_bills_refuses_a_channel_without_bills_and_a_bad_date(till):
    data, _ = till
    with pytest.raises(InvalidInput, match="no daily bill"):
        run(data, "payment", "bills", "--channel", "cash", "--date", "2026-03-01")
    with pytest.raises(InvalidInput, match="not a date"):
        run(data, "payment", "bills", "--channel", "alipay", "--date", "yesterday")


ONLINE_ONLY_RULES = """
description = "test: larger sales must be paid online"
[[rule]]
id = "online-over-10"
when = "amount >= 1000"
action = "review"
step_up = "online_only"
priority = 10
reason_zh = "金额较大，须在线支付"
reason_en = "Larger sales are paid online"
"""


def test_an_online_payment_meets_the_online_only_step_up_from_the_cli_as_in_the_app(till):
    from pos.risk import install_ruleset

    data, _ = till
    with TerminalServices.open(data) as services, services.terminal.db.transaction() as conn:
        install_ruleset(conn, ONLINE_ONLY_RULES, 2, installed_at="2026-03-02T02:00:00.000000Z")
    # Cash cannot meet it: refused, and nothing is left open.
    from pos.services.risk_gate import RiskRefused

    with pytest.raises(RiskRefused) as refused:
        run(data, "sale", "--cashier", "c1", "--item", "DLY-007", "--pay", "cash")
    assert refused.value.missing == ("online_only",)
    # A wallet payment is online by nature: the review is met, as at the counter.
    code, sale = code_sale(data, "wechat", "DLY-007")
    assert code == 0 and sale["state"] == "paid"
    assert sale["risk"][0]["action"] == "review"
    assert sale["risk"][0]["step_ups_met"] == ["online_only"]
    with TerminalServices.open(data) as services:
        assert services.checkout.open_orders() == []
