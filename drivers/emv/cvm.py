"""Cardholder verification (EMV Book 3, 10.5). A PC/SC reader is not a PIN
pad: this terminal offers signature and "no CVM" only, so a card whose rules
demand a PIN fails verification, and the kernel declines it plainly."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.emv.config import TerminalConfig
from drivers.emv.tvr import Bits, TsiBit, TvrBit

FAIL_CVM = 0x00
SIGNATURE = 0x1E
NO_CVM = 0x1F
PIN_METHODS = {0x01, 0x02, 0x03, 0x04, 0x05}
APPLY_NEXT = 0x40

RESULT_UNKNOWN, RESULT_FAILED, RESULT_SUCCESSFUL = 0x00, 0x01, 0x02


@dataclass(frozen=True)
class CvmOutcome:
    method: str  # "signature", "no_cvm", or "failed"
    results: bytes  # 9F34
    pin_required: bool = False

    @property
    def failed(self) -> bool:
        return self.method == "failed"


def _amount(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def _condition_met(
    cond: int, cvm: int, amount: int, same_currency: bool, x: int, y: int, cfg: TerminalConfig
) -> bool:
    if cond == 0x00:
        return True
    if cond == 0x02:  # not unattended cash, not manual cash, not cashback: a purchase
        return True
    if cond == 0x03:
        return _supported(cvm, cfg)
    if cond in (0x06, 0x07, 0x08, 0x09):
        if not same_currency:
            return False
        limit = x if cond in (0x06, 0x07) else y
        return amount < limit if cond in (0x06, 0x08) else amount > limit
    # 01, 04, 05 (cash, cashback) never apply to a purchase; others are RFU.
    return False


def _supported(cvm: int, cfg: TerminalConfig) -> bool:
    if cvm == SIGNATURE:
        return cfg.supports_signature()
    if cvm == NO_CVM:
        return cfg.supports_no_cvm()
    return False


def verify_cardholder(
    cvm_list: bytes | None,
    aip: bytes,
    amount_minor: int,
    same_currency: bool,
    cfg: TerminalConfig,
    tvr: Bits,
    tsi: Bits,
) -> CvmOutcome:
    if not aip[0] & 0x10:
        return CvmOutcome("no_cvm", bytes([0x3F, 0x00, RESULT_UNKNOWN]))
    tsi.set(TsiBit.CARDHOLDER_VERIFICATION_PERFORMED)
    if not cvm_list or len(cvm_list) < 10 or len(cvm_list) % 2:
        tvr.set(TvrBit.ICC_DATA_MISSING)
        return CvmOutcome("no_cvm", bytes([0x3F, 0x00, RESULT_UNKNOWN]))
    x, y = _amount(cvm_list[0:4]), _amount(cvm_list[4:8])
    last = (0x3F, 0x00)
    pin_wanted = False
    for i in range(8, len(cvm_list), 2):
        code, cond = cvm_list[i], cvm_list[i + 1]
        method = code & 0x3F
        if not _condition_met(cond, method, amount_minor, same_currency, x, y, cfg):
            continue
        last = (code, cond)
        if method == FAIL_CVM:
            break
        if _supported(method, cfg):
            name = "signature" if method == SIGNATURE else "no_cvm"
            result = RESULT_UNKNOWN if method == SIGNATURE else RESULT_SUCCESSFUL
            return CvmOutcome(name, bytes([code, cond, result]))
        if method in PIN_METHODS:
            pin_wanted = True
            tvr.set(TvrBit.PIN_PAD_NOT_PRESENT)
        else:
            tvr.set(TvrBit.UNRECOGNISED_CVM)
        if not code & APPLY_NEXT:
            break
    tvr.set(TvrBit.CARDHOLDER_VERIFICATION_FAILED)
    return CvmOutcome("failed", bytes([last[0], last[1], RESULT_FAILED]), pin_required=pin_wanted)
