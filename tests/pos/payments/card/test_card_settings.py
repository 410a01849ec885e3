"""The card section of payments.json: read as written, refused with what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pos.clock import FakeClock
from pos.errors import InvalidInput, PosError
from pos.payments import rsa
from pos.payments.card.settings import card_section, card_settings
from pos.payments.channel import ChannelEnv


def _env(tmp_path: Path, **changes: Any) -> ChannelEnv:
    key = rsa.generate()
    (tmp_path / "acq.pem").write_bytes(rsa.public_pem(key.public_key()))
    section = {**card_section("127.0.0.1", 40123, "acq.pem"), **changes}
    return ChannelEnv("card", section, tmp_path, FakeClock())


def test_the_section_pos_card_acquirer_writes_reads_back(tmp_path):
    settings = card_settings(_env(tmp_path))
    assert settings.reader is None  # "first"
    assert (settings.acquirer.host, settings.acquirer.port) == ("127.0.0.1", 40123)
    assert settings.acquirer.terminal_id == "POS00001"
    assert settings.policy.per_transaction_cap_minor == 500_00
    assert settings.policy.total_cap_minor == 2000_00
    assert settings.policy.max_age_s == 24 * 3600
    assert settings.acquirer_key is not None


def test_a_named_reader_and_offline_caps_are_taken_as_written(tmp_path):
    offline = {"per_transaction_cap": "80.50", "total_cap": "300", "max_age_hours": 12}
    settings = card_settings(_env(tmp_path, reader="ACS ACR39U", offline=offline))
    assert settings.reader == "ACS ACR39U"
    assert settings.policy.per_transaction_cap_minor == 80_50
    assert settings.policy.total_cap_minor == 300_00
    assert settings.policy.max_age_s == 12 * 3600


def test_without_the_acquirer_key_the_terminal_never_approves_offline(tmp_path):
    env = _env(tmp_path)
    section = {k: v for k, v in env.config.items() if k != "acquirer_public_key_file"}
    settings = card_settings(ChannelEnv("card", section, tmp_path, FakeClock()))
    assert settings.acquirer_key is None


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"terminal_id": "T1"}, "terminal_id"),
        ({"merchant_id": "M" * 16}, "merchant_id"),
        ({"acquirer_port": 70000}, "acquirer_port"),
        ({"acquirer_port": "40123"}, "acquirer_port"),
        ({"acquirer_host": 5}, "acquirer_host"),
        ({"offline": {"per_transaction_cap": 500}}, "per_transaction_cap"),
        ({"offline": {"total_cap": "lots"}}, "total_cap"),
        ({"offline": {"max_age_hours": 0}}, "max_age_hours"),
        ({"offline": {"enabled": "yes"}}, "enabled"),
        ({"offline": []}, "offline"),
        ({"acquirer_public_key_file": "missing.pem"}, "missing.pem"),
    ],
)
def test_a_wrong_setting_is_refused_with_what_to_fix(tmp_path, changes, says):
    with pytest.raises(PosError) as err:
        card_settings(_env(tmp_path, **changes))
    assert says in err.value.message + err.value.remedy


def test_terminal_and_merchant_ids_have_no_default(tmp_path):
    env = _env(tmp_path)
    section = {k: v for k, v in env.config.items() if k != "merchant_id"}
    with pytest.raises(InvalidInput, match="merchant_id"):
        card_settings(ChannelEnv("card", section, tmp_path, FakeClock()))
