"""`pos sandbox ...` and `pos payment query` through their argparse front end."""

from __future__ import annotations

import argparse
import io
import json

from pos.cli import payments as cli
from pos.cli import sandbox as sandbox_cli
from pos.cli.context import CliContext
from pos.money import Money
from pos.payments.channel import PaymentMode
from tests.pos.payments.conftest import RecordingHandler


def run(ctx: CliContext, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    sandbox_cli.register(sub)
    args = parser.parse_args(list(argv))
    return int(args.func(args, ctx))


def make_ctx(data_dir) -> CliContext:
    return CliContext(data_dir=data_dir, as_json=True, out=io.StringIO(), err=io.StringIO())


def test_scenario_and_scan_drive_the_sandbox(tmp_terminal, sandbox, router):
    (tmp_terminal.data_dir / sandbox_cli.SANDBOX_FILE).write_text(
        json.dumps({"control": f"{sandbox.base_url}/_sandbox"})
    )
    ctx = make_ctx(tmp_terminal.data_dir)
    assert (
        run(ctx, "sandbox", "scenario", "--outcome", "never", "--fault", "5xx:query:2:before") == 0
    )
    assert sandbox.state.default.outcome == "never"
    assert sandbox.state.default.faults[0].op == "query"

    class ScanWhenShown(RecordingHandler):
        def show_qr(self, payload: str) -> None:
            super().show_qr(payload)
            assert run(ctx, "sandbox", "scan") == 0

    out = router.pay("O-1", "wechat", Money(100), PaymentMode.QR, ScanWhenShown())
    assert out.paid
    assert run(ctx, "sandbox", "trades") == 0
    ctx = make_ctx(tmp_terminal.data_dir)
    assert run(ctx, "payment", "query", "O-1") == 0
    doc = json.loads(ctx.out.getvalue())
    assert doc["payments"][0]["status"] == "succeeded"
    assert doc["payments"][0]["out_trade_no"] == out.intent.out_trade_no


def test_bad_fault_text_is_explained(tmp_terminal):
    import pytest

    from pos.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        sandbox_cli.parse_fault("meteor:start")
    assert err.value.code == "cli.sandbox.unknown_fault"
    assert "Kinds:" in err.value.render("en") and "类型" in err.value.render("zh_CN")
