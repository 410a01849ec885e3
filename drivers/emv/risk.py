"""Processing restrictions, terminal risk management and terminal action
analysis (EMV Book 3, 10.4, 10.6, 10.7)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from drivers.emv import apdu
from drivers.emv.apdu import Transport
from drivers.emv.config import TerminalConfig
from drivers.emv.records import CardData
from drivers.emv.tvr import Bits, TsiBit, TvrBit
from pos.payments.card.tlv import TlvError, find_value, parse

# AUC (9F07) byte 1: domestic goods, international goods, valid at non-ATM terminals.
_AUC_DOMESTIC_GOODS, _AUC_INTERNATIONAL_GOODS, _AUC_NOT_ATM = 0x20, 0x10, 0x01


def _yymmdd(raw: str) -> date | None:
    try:
        return date(2000 + int(raw[0:2]), int(raw[2:4]), int(raw[4:6]))
    except ValueError:
        return None


def processing_restrictions(card: CardData, cfg: TerminalConfig, today: date, tvr: Bits) -> None:
    version = card.get(0x9F08)
    if version is not None and version != cfg.app_version:
        tvr.set(TvrBit.DIFFERENT_APP_VERSIONS)
    expiry = _yymmdd(card.expiry)
    if expiry is None or expiry < today:
        tvr.set(TvrBit.EXPIRED_APPLICATION)
    effective = _yymmdd(card.effective) if card.effective else None
    if effective is not None and effective > today:
        tvr.set(TvrBit.APPLICATION_NOT_YET_EFFECTIVE)
    auc = card.get(0x9F07)
    if auc and len(auc) >= 1:
        domestic = card.get(0x5F28) == cfg.country_code
        need = _AUC_DOMESTIC_GOODS if domestic else _AUC_INTERNATIONAL_GOODS
        if not auc[0] & need or not auc[0] & _AUC_NOT_ATM:
            tvr.set(TvrBit.SERVICE_NOT_ALLOWED)


def randomly_selected(amount: int, cfg: TerminalConfig, rng: random.Random) -> bool:
    if amount >= cfg.floor_limit_minor or cfg.random_target_percent <= 0:
        return False
    number = rng.randint(1, 99)
    if amount < cfg.random_threshold_minor:
        return number <= cfg.random_target_percent
    span = cfg.floor_limit_minor - cfg.random_threshold_minor
    extra = (cfg.random_max_percent - cfg.random_target_percent) * (
        amount - cfg.random_threshold_minor
    )
    return number * span <= cfg.random_target_percent * span + extra


def _get_data_counter(t: Transport, tag: int) -> int | None:
    resp = t.transmit(apdu.get_data(tag))
    if not resp.ok:
        return None
    try:
        raw = find_value(parse(resp.data), tag)
    except TlvError:
        return None
    return int.from_bytes(raw, "big") if raw and len(raw) == 2 else None


def terminal_risk_management(
    t: Transport,
    card: CardData,
    amount: int,
    cfg: TerminalConfig,
    rng: random.Random,
    tvr: Bits,
    tsi: Bits,
) -> None:
    if amount >= cfg.floor_limit_minor:
        tvr.set(TvrBit.FLOOR_LIMIT_EXCEEDED)
    elif randomly_selected(amount, cfg, rng):
        tvr.set(TvrBit.RANDOMLY_SELECTED_ONLINE)
    lower, upper = card.get(0x9F14), card.get(0x9F23)
    if lower and upper:
        atc = _get_data_counter(t, 0x9F36)
        last_online = _get_data_counter(t, 0x9F13)
        if atc is None or last_online is None:
            tvr.set(TvrBit.LOWER_OFFLINE_LIMIT_EXCEEDED)
            tvr.set(TvrBit.UPPER_OFFLINE_LIMIT_EXCEEDED)
        else:
            since_online = (atc - last_online) & 0xFFFF
            if since_online > lower[0]:
                tvr.set(TvrBit.LOWER_OFFLINE_LIMIT_EXCEEDED)
            if since_online > upper[0]:
                tvr.set(TvrBit.UPPER_OFFLINE_LIMIT_EXCEEDED)
            if last_online == 0:
                tvr.set(TvrBit.NEW_CARD)
    tsi.set(TsiBit.TERMINAL_RISK_MANAGEMENT_PERFORMED)


@dataclass(frozen=True)
class ActionCodes:
    denial: bytes
    online: bytes
    default: bytes

    @staticmethod
    def issuer(card: CardData) -> ActionCodes:
        # Absent IACs: denial all zeros, online and default all ones (Book 3, 10.7).
        return ActionCodes(
            denial=card.get(0x9F0E) or bytes(5),
            online=card.get(0x9F0F) or b"\xff" * 5,
            default=card.get(0x9F0D) or b"\xff" * 5,
        )


def action_analysis(tvr: Bits, cfg: TerminalConfig, iac: ActionCodes, offline_allowed: bool) -> str:
    """The cryptogram to ask for first: "AAC", "ARQC" or "TC"."""
    if tvr.matches(cfg.tac_denial) or tvr.matches(iac.denial):
        return "AAC"
    if not cfg.online_capable:
        return default_action(tvr, cfg, iac)
    if not offline_allowed or tvr.matches(cfg.tac_online) or tvr.matches(iac.online):
        return "ARQC"
    return "TC"


def default_action(tvr: Bits, cfg: TerminalConfig, iac: ActionCodes) -> str:
    """What to ask of the card when the host cannot be reached."""
    if tvr.matches(cfg.tac_default) or tvr.matches(iac.default):
        return "AAC"
    return "TC"
