"""The `card` section of payments.json: which reader, the acquirer host, the
terminal and merchant ids it knows this terminal by, the acquirer's public
key (for sealing offline approvals) and the offline limits.

    "card": {
      "reader": "first",
      "acquirer_host": "127.0.0.1", "acquirer_port": 40123,
      "terminal_id": "POS00001", "merchant_id": "STORE0000000001",
      "acquirer_public_key_file": "sandbox/card-acquirer-public.pem",
      "connect_timeout": 5, "response_timeout": 20, "card_timeout": 60,
      "offline": {"enabled": true, "per_transaction_cap": "500.00",
                  "total_cap": "2000.00", "max_age_hours": 24}
    }

Without `acquirer_public_key_file` the terminal never approves offline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pos.errors import InvalidInput
from pos.money import Money, MoneyError
from pos.payments import rsa
from pos.payments.card.acquirer import AcquirerConfig
from pos.payments.card.offline import OfflinePolicy
from pos.payments.channel import ChannelEnv
from pos.payments.settings import CONFIG_FILE, Section

FIRST_READER = "first"
PUBLIC_KEY = "acquirer_public_key"
_TERMINAL_ID_LEN = 8  # ISO 8583 field 41
_MERCHANT_ID_LEN = 15  # field 42
SANDBOX_TERMINAL_ID, SANDBOX_MERCHANT_ID = "POS00001", "STORE0000000001"


@dataclass(frozen=True)
class CardSettings:
    reader: str | None  # None: the first reader PC/SC lists
    acquirer: AcquirerConfig
    policy: OfflinePolicy
    card_timeout_s: float
    acquirer_key: rsa.PublicKey | None


def _fixed_id(section: Section, key: str, length: int) -> str:
    value = section.text(key)
    if len(value) != length or not value.isascii() or not value.isprintable():
        raise InvalidInput(
            f"card setting '{key}' must be {length} printable ASCII characters, not {value!r}",
            f"Use the id your acquirer gave this terminal, in the card section of {CONFIG_FILE}.",
        )
    return value


def _cap(offline: Mapping[str, Any], key: str, default_minor: int, currency: str) -> int:
    raw = offline.get(key)
    if raw is None:
        return default_minor
    try:
        if not isinstance(raw, str):
            raise MoneyError(f"{raw!r} is not written as text")
        cap = Money.parse(raw, currency)
    except MoneyError as exc:
        raise InvalidInput(
            f"card offline setting '{key}' is not an amount: {exc}",
            f'Write it as text like "500.00" in {CONFIG_FILE}.',
        ) from exc
    if cap.minor < 0:
        raise InvalidInput(f"card offline setting '{key}' is negative", "Use 0 or more.")
    return cap.minor


def _policy(cfg: Mapping[str, Any], currency: str) -> OfflinePolicy:
    offline = cfg.get("offline", {})
    if not isinstance(offline, Mapping):
        raise InvalidInput(
            "card setting 'offline' must be an object", f"Fix the card section of {CONFIG_FILE}."
        )
    enabled = offline.get("enabled", True)
    hours = offline.get("max_age_hours", 24)
    if not isinstance(enabled, bool):
        raise InvalidInput("card offline 'enabled' must be true or false", "Fix it.")
    if isinstance(hours, bool) or not isinstance(hours, int) or not 0 < hours <= 24 * 7:
        raise InvalidInput(
            "card offline 'max_age_hours' must be a whole number of hours from 1 to 168",
            "Card schemes expect stored approvals to reach the bank within a day; use 24.",
        )
    base = OfflinePolicy()
    return OfflinePolicy(
        enabled=enabled,
        per_transaction_cap_minor=_cap(
            offline, "per_transaction_cap", base.per_transaction_cap_minor, currency
        ),
        total_cap_minor=_cap(offline, "total_cap", base.total_cap_minor, currency),
        max_age_s=hours * 3600,
    )


def card_settings(env: ChannelEnv, currency: str = "CNY") -> CardSettings:
    """The card section of `env`, checked; InvalidInput says what to fix."""
    section = Section(env)
    reader = section.text("reader", FIRST_READER)
    port = section.number("acquirer_port", -1)
    if port != int(port) or not 0 < port < 65536:
        raise InvalidInput(
            "card setting 'acquirer_port' must be a TCP port (1-65535)",
            f"Set it in the card section of {CONFIG_FILE} (`pos card acquirer` writes it).",
        )
    acquirer = AcquirerConfig(
        host=section.text("acquirer_host"),
        port=int(port),
        terminal_id=_fixed_id(section, "terminal_id", _TERMINAL_ID_LEN),
        merchant_id=_fixed_id(section, "merchant_id", _MERCHANT_ID_LEN),
        connect_timeout=section.number("connect_timeout", 5.0) or 5.0,
        response_timeout=section.number("response_timeout", 20.0) or 20.0,
    )
    has_key = f"{PUBLIC_KEY}_file" in env.config
    return CardSettings(
        reader=None if reader == FIRST_READER else reader,
        acquirer=acquirer,
        policy=_policy(env.config, currency),
        card_timeout_s=section.number("card_timeout", 60.0) or 60.0,
        acquirer_key=section.public_key(PUBLIC_KEY) if has_key else None,
    )


def card_section(host: str, port: int, public_key_file: str) -> dict[str, Any]:
    """A card section for payments.json with the default ids and limits
    (what `pos card acquirer` writes)."""
    return {
        "reader": FIRST_READER,
        "acquirer_host": host,
        "acquirer_port": port,
        "terminal_id": SANDBOX_TERMINAL_ID,
        "merchant_id": SANDBOX_MERCHANT_ID,
        f"{PUBLIC_KEY}_file": public_key_file,
        "connect_timeout": 2,
        "response_timeout": 10,
        "card_timeout": 60,
        "offline": {
            "enabled": True,
            "per_transaction_cap": "500.00",
            "total_cap": "2000.00",
            "max_age_hours": 24,
        },
    }
