from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pos.cli import report as report_cli
from pos.cli.context import CliContext
from pos.clock import FakeClock
from pos.errors import PosError
from pos.services.terminal_services import TerminalServices

from .conftest import MANAGER_PIN, ring_up_a_day

DATE = "2026-03-02"


def run(services: TerminalServices, *argv: str, as_json: bool = False) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="pos")
    report_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(
        services.terminal.data_dir, as_json, out, err, read_pin=lambda who: MANAGER_PIN
    )
    code = args.func(args, ctx)
    return code, out.getvalue(), err.getvalue()


def test_x_report_prints_the_day_so_far(services: TerminalServices, clock: FakeClock) -> None:
    ring_up_a_day(services, clock)
    code, out, _ = run(services, "report", "x", "--date", "20260302")  # as in receipt numbers
    assert code == 0
    assert (
        "X 报表 X report" in out and "按支付方式 By tender" in out and "微信支付 WeChat Pay" in out
    )


def test_z_closes_the_day_and_reprints_it_as_files(
    services: TerminalServices, clock: FakeClock, tmp_path: Path
) -> None:
    ring_up_a_day(services, clock)
    _, out, _ = run(services, "report", "x", "--date", DATE, as_json=True)
    expected = json.loads(out)["cash"]["expected_minor"]
    counted = f"{expected // 100}.{expected % 100:02d}"
    code, out, _ = run(
        services, "report", "z", "--date", DATE, "--counted", counted, "--approver", "boss",
        as_json=True,
    )  # fmt: skip
    z = json.loads(out)
    assert code == 0 and z["z_no"] == 1 and z["journal"]["agrees"]
    assert z["cash"]["over_short_minor"] == 0 and len(z["sha256"]) == 64

    xlsx = tmp_path / "z.xlsx"
    code, out, _ = run(services, "report", "z", "--date", DATE, "--reprint", "--out", str(xlsx))
    assert code == 0 and str(xlsx) in out
    assert load_workbook(xlsx).sheetnames[0] == "汇总 Summary"
    csv_file = tmp_path / "daily.csv"
    code, _, _ = run(
        services, "report", "daily", "--date", DATE, "--format", "csv", "--out", str(csv_file)
    )
    assert code == 0 and "Z 报表 Z report No. 1" in csv_file.read_text(encoding="utf-8-sig")


def test_z_without_counted_cash_or_manager_says_what_is_missing(
    services: TerminalServices,
) -> None:
    with pytest.raises(PosError, match="counted cash and a manager") as err:
        run(services, "report", "z", "--date", DATE)
    assert "--counted AMOUNT --approver" in err.value.render("en")


def test_a_bad_date_or_amount_is_a_clear_error(services: TerminalServices) -> None:
    with pytest.raises(PosError, match="not a date"):
        run(services, "report", "x", "--date", "2026/03/02")
    with pytest.raises(PosError, match="not an amount"):
        run(services, "report", "x", "--date", DATE, "--float", "12.345")


def test_reconcile_without_a_configured_channel_says_how_to_set_one_up(
    services: TerminalServices,
) -> None:
    with pytest.raises(PosError, match=r"(?i)no channel with a daily bill"):
        run(services, "reconcile", "--date", DATE)
