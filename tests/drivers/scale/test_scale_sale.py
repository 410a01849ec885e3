"""`pos sale --item FRT-001:scale`: a weighed sale from the command line, the
weight read from the emulated scale over a real pseudo-terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from drivers.scale.emulator import EmulatedScale
from pos.cli.context import CliContext
from pos.cli.main import build_parser
from pos.clock import SystemClock
from pos.scale import ScaleError
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import provision
from tests.pos.services.conftest import CASHIER_PIN, DEMO_CATALOG


@pytest.fixture
def till(tmp_path: Path) -> Path:
    data = tmp_path / "till"
    services = TerminalServices.wrap(provision(data, "demo", "S001", "T01", SystemClock()))
    t = services.terminal
    products = read_catalog_file(DEMO_CATALOG, "CNY")
    import_products(t.db, t.journal, t.clock, products, replace=True, source="t")
    services.users.add("c1", "Zhang Wei", "cashier", CASHIER_PIN)
    services.close()
    return data


def _sale(data: Path, *argv: str) -> tuple[int, dict]:
    out = io.StringIO()
    ctx = CliContext(data_dir=data, as_json=True, out=out, err=io.StringIO())
    ctx.read_pin = lambda who: CASHIER_PIN
    args = build_parser().parse_args(["sale", "--cashier", "c1", *argv])
    return args.func(args, ctx), json.loads(out.getvalue() or "{}")


def test_a_weighed_item_is_priced_from_the_scale_once_it_settles(till: Path) -> None:
    with EmulatedScale() as scale:
        scale.place(1234, settle=3)
        code, sale = _sale(
            till, "--item", "FRT-001:scale", "--scale-port", scale.port, "--pay", "cash:20.00"
        )
    assert code == 0
    (line,) = sale["lines"]
    # Fuji apples at ¥12.80/kg x 1.234 kg = ¥15.7952, rounded once for the line.
    assert (line["sku"], line["grams"], line["total"]) == ("FRT-001", 1234, "15.80")


def test_an_overloaded_scale_stops_the_sale_before_anything_is_charged(till: Path) -> None:
    with EmulatedScale() as scale:
        scale.overload()
        with pytest.raises(ScaleError) as err:
            _sale(till, "--item", "FRT-001:scale", "--scale-port", scale.port, "--pay", "cash")
    assert err.value.code == "scale.state.overload"
    code, sale = _sale(till, "--item", "DRK-001", "--pay", "cash:5.00")
    assert code == 0 and sale["receipt_no"]
