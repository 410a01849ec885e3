"""The kiosk's emulated tower lamp: lit by a call, off when the attendant has
come, its state written where a lamp controller watches it."""

from __future__ import annotations

import json
from pathlib import Path

from drivers.tower_lamp import STATE_FILE, open_tower_lamp


def test_a_call_lights_the_lamp_and_the_attendant_puts_it_out(tmp_path: Path) -> None:
    lamp = open_tower_lamp(tmp_path)
    lamp.call("payment_unknown")
    assert json.loads((tmp_path / STATE_FILE).read_text()) == {
        "lit": True,
        "reason": "payment_unknown",
        "calls": 1,
    }
    lamp.call("shopper")
    lamp.clear()
    assert lamp.state.calls == 2 and not lamp.state.lit
    assert json.loads((tmp_path / STATE_FILE).read_text())["lit"] is False


def test_a_lamp_whose_file_cannot_be_written_still_lights(tmp_path: Path) -> None:
    lamp = open_tower_lamp(tmp_path / "gone")  # the directory does not exist
    lamp.call("shopper")
    assert lamp.state.lit
