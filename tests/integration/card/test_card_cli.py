from __future__ import annotations

import argparse
import io
import json

from drivers import cli
from drivers.virtualcard.card import EmvCard
from drivers.virtualcard.profiles import VISA
from pos.cli.context import CliContext
from tests.integration.card.conftest import READER, wait_slot_state


def _run(argv: list[str], tmp_path) -> dict:
    parser = argparse.ArgumentParser(prog="pos")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(data_dir=tmp_path, as_json=True, out=out, err=err)
    assert args.func(args, ctx) == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_card_readers_lists_the_virtual_reader_and_its_card(slot, tmp_path):
    wait_slot_state(False)
    slot.insert(EmvCard(VISA))
    wait_slot_state(True)
    readers = {r["reader"]: r for r in _run(["card", "readers"], tmp_path)["readers"]}
    assert readers[READER]["card"] is True
    assert readers[READER]["atr"] == VISA.atr.hex().upper()


def test_card_read_prints_masked_pan_cryptogram_and_counts(slot, tmp_path):
    wait_slot_state(False)
    slot.insert(EmvCard(VISA))
    view = _run(["card", "read", "--reader", READER, "--amount", "1.00"], tmp_path)
    assert view["masked_pan"] == "476173******" + VISA.pan[-4:]
    assert view["aid"] == "A0000000031010" and view["label"] == "VISA CREDIT"
    assert view["cryptogram_type"] == "ARQC" and len(view["cryptogram"]) == 16
    assert view["expiry"] == VISA.expiry[:4] and view["atc"] == VISA.atc + 1
    assert view["tvr"] == "8000008000"
    assert view["apdus"] == 11
    assert VISA.pan not in json.dumps(view)
