"""`pos card acquirer` as a real process, its scenario controls from
`pos card scenario`, and the card channel as the registry builds it from
payments.json."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pos.cli.context import CliContext
from pos.cli.main import build_parser
from pos.errors import InvalidInput
from pos.payments.card.channel import CardChannel
from pos.payments.card.sandbox_service import SandboxAcquirerService
from pos.payments.registry import KeystoreSecrets, load_channels, open_router
from pos.payments.sandbox.keys import write_terminal_config
from pos.payments.settings import load_payments_config

POS = Path(sys.executable).with_name("pos")


def run(data: Path, *argv: str) -> dict:
    out = io.StringIO()
    ctx = CliContext(data_dir=data, as_json=True, out=out, err=io.StringIO())
    args = build_parser().parse_args(list(argv))
    assert args.func(args, ctx) == 0
    return json.loads(out.getvalue())


def _read_json(proc: subprocess.Popen[str]) -> dict:
    text = ""
    assert proc.stdout is not None
    for line in proc.stdout:
        text += line
        if line.startswith("}"):
            return json.loads(text)
    raise AssertionError(f"pos card acquirer printed no JSON: {text!r}")


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return False
    return True


def test_pos_card_acquirer_runs_configures_and_takes_scenarios(tmp_path):
    data = tmp_path / "till"
    data.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "POS_LANG": "en"}
    proc = subprocess.Popen(
        [str(POS), "--data-dir", str(data), "--json", "card", "acquirer"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        info = _read_json(proc)
        card = load_payments_config(data)["card"]
        assert (card["acquirer_host"], card["acquirer_port"]) == ("127.0.0.1", info["port"])
        assert (data / card["acquirer_public_key_file"]).exists()
        assert _answers(info["port"])

        state = run(data, "card", "scenario", "--fault", "timeout:start:2", "--account",
                    "visa:5.00:blocked", "--down", "0")  # fmt: skip
        assert state["up"] is False and state["done"][0] == "fault timeout:start:2"
        assert "visa" in state["done"][1] and "4761" not in json.dumps(state)
        assert not _answers(info["port"])
        assert run(data, "card", "scenario", "--up")["up"] is True
        assert _answers(info["port"])
        with pytest.raises(InvalidInput, match="account"):
            run(data, "card", "scenario", "--account", "nosuchcard:1.00")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "stopped" in err


def test_the_registry_builds_the_card_channel_from_payments_json(
    tmp_terminal, card_channel_registered
):
    t = tmp_terminal
    service = SandboxAcquirerService(t.data_dir, t.clock).start()
    try:
        router, problems = open_router(t, offline_risk=lambda query: "")
        assert "card" not in problems, problems
        card = router.channel("card")
        assert isinstance(card, CardChannel)
        assert card.p.acquirer.config.port == service.acquirer.address[1]
        assert card.p.acquirer_key is not None and card.p.offline_risk is not None
    finally:
        service.stop()


def test_a_card_section_with_a_mistake_leaves_card_out_and_says_why(
    tmp_terminal, card_channel_registered
):
    t = tmp_terminal
    write_terminal_config(t.data_dir, {"card": {"acquirer_host": "127.0.0.1"}})
    channels, problems = load_channels(t.data_dir, t.clock, KeystoreSecrets(t.keystore))
    assert "card" not in channels
    assert "acquirer_port" in problems["card"]
