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
from pos.messages import msg
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
            msg(
                "card.config.id_length", key=key, length=length, value=repr(value), file=CONFIG_FILE
            )
        )
    return value


def _cap(offline: Mapping[str, Any], key: str, default_minor: int, currency: str) -> int:
    raw = offline.get(key)
    if raw is None:
        return default_minor
    try:
        if not isinstance(raw, str):
            raise MoneyError(msg("money.not_an_amount", text=repr(raw)))
        cap = Money.parse(raw, currency)
    except MoneyError as exc:
        raise InvalidInput(
            msg("card.config.not_amount", key=key, detail=exc.msg or str(exc), file=CONFIG_FILE)
        ) from exc
    if cap.minor < 0:
        raise InvalidInput(msg("card.config.negative", key=key))
    return cap.minor


def _policy(cfg: Mapping[str, Any], currency: str) -> OfflinePolicy:
    offline = cfg.get("offline", {})
    if not isinstance(offline, Mapping):
        raise InvalidInput(msg("card.config.offline_not_object", file=CONFIG_FILE))
    enabled = offline.get("enabled", True)
    hours = offline.get("max_age_hours", 24)
    if not isinstance(enabled, bool):
        raise InvalidInput(msg("card.config.enabled_not_bool", file=CONFIG_FILE))
    if isinstance(hours, bool) or not isinstance(hours, int) or not 0 < hours <= 24 * 7:
        raise InvalidInput(msg("card.config.max_age"))
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
        raise InvalidInput(msg("card.config.port", file=CONFIG_FILE))
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
