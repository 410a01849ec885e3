"""Terminal verification results (95) and transaction status information
(9B), EMV Book 3 Annex C5 and C6, as named bits."""

from __future__ import annotations

from enum import Enum


class TvrBit(Enum):
    # (byte index, bit mask)
    ODA_NOT_PERFORMED = (0, 0x80)
    SDA_FAILED = (0, 0x40)
    ICC_DATA_MISSING = (0, 0x20)
    CARD_ON_EXCEPTION_FILE = (0, 0x10)
    DDA_FAILED = (0, 0x08)
    CDA_FAILED = (0, 0x04)
    DIFFERENT_APP_VERSIONS = (1, 0x80)
    EXPIRED_APPLICATION = (1, 0x40)
    APPLICATION_NOT_YET_EFFECTIVE = (1, 0x20)
    SERVICE_NOT_ALLOWED = (1, 0x10)
    NEW_CARD = (1, 0x08)
    CARDHOLDER_VERIFICATION_FAILED = (2, 0x80)
    UNRECOGNISED_CVM = (2, 0x40)
    PIN_TRY_LIMIT_EXCEEDED = (2, 0x20)
    PIN_PAD_NOT_PRESENT = (2, 0x10)
    PIN_NOT_ENTERED = (2, 0x08)
    ONLINE_PIN_ENTERED = (2, 0x04)
    FLOOR_LIMIT_EXCEEDED = (3, 0x80)
    LOWER_OFFLINE_LIMIT_EXCEEDED = (3, 0x40)
    UPPER_OFFLINE_LIMIT_EXCEEDED = (3, 0x20)
    RANDOMLY_SELECTED_ONLINE = (3, 0x10)
    MERCHANT_FORCED_ONLINE = (3, 0x08)
    DEFAULT_TDOL_USED = (4, 0x80)
    ISSUER_AUTHENTICATION_FAILED = (4, 0x40)
    SCRIPT_FAILED_BEFORE_AC = (4, 0x20)
    SCRIPT_FAILED_AFTER_AC = (4, 0x10)


class TsiBit(Enum):
    ODA_PERFORMED = (0, 0x80)
    CARDHOLDER_VERIFICATION_PERFORMED = (0, 0x40)
    CARD_RISK_MANAGEMENT_PERFORMED = (0, 0x20)
    ISSUER_AUTHENTICATION_PERFORMED = (0, 0x10)
    TERMINAL_RISK_MANAGEMENT_PERFORMED = (0, 0x08)
    SCRIPT_PROCESSING_PERFORMED = (0, 0x04)


class Bits:
    def __init__(self, size: int) -> None:
        self._b = bytearray(size)

    def set(self, bit: TvrBit | TsiBit) -> None:
        i, mask = bit.value
        self._b[i] |= mask

    def has(self, bit: TvrBit | TsiBit) -> bool:
        i, mask = bit.value
        return bool(self._b[i] & mask)

    def matches(self, action_code: bytes) -> bool:
        """Whether any set bit is also set in a TAC/IAC."""
        return any(a & b for a, b in zip(self._b, action_code, strict=False))

    def to_bytes(self) -> bytes:
        return bytes(self._b)

    def hex(self) -> str:
        return self._b.hex().upper()


def tvr() -> Bits:
    return Bits(5)


def tsi() -> Bits:
    return Bits(2)
