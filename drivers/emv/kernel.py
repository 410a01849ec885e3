"""The EMV contact transaction, from application selection to the first
GENERATE AC, and the second GENERATE AC once the host has answered (or
could not be reached)."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from drivers.emv import apdu
from drivers.emv.apdu import CardError, Transport
from drivers.emv.config import TerminalConfig
from drivers.emv.cvm import CvmOutcome, verify_cardholder
from drivers.emv.dol import build_dol, parse_dol
from drivers.emv.records import CardData, get_processing_options, read_application_data
from drivers.emv.risk import (
    ActionCodes,
    action_analysis,
    default_action,
    processing_restrictions,
    terminal_risk_management,
)
from drivers.emv.selection import Chooser, SelectedApp, select_application
from drivers.emv.tvr import Bits, TsiBit, TvrBit, tsi, tvr
from pos.payments.card import cryptogram as ac
from pos.payments.card.tlv import TlvError, find_value, parse

_P1 = {"AAC": ac.CID_AAC, "TC": ac.CID_TC, "ARQC": ac.CID_ARQC}
# A card may answer with less than it was asked for, never more: AAC < ARQC < TC.
_RANK = {ac.CID_AAC: 0, ac.CID_ARQC: 1, ac.CID_TC: 2}
_ANOTHER_CARD = "Use another card or another way to pay."


def _answered(cid: int, wanted: str) -> int:
    """The cryptogram type the card gave: never more than was asked (a TC for
    an ARQC), and never the reserved type."""
    kind = cid & 0xC0
    rank = _RANK.get(kind)
    if rank is None or rank > _RANK[_P1[wanted]]:
        raise CardError("the card answered with a cryptogram it was not asked for", _ANOTHER_CARD)
    return kind


ARC_OFFLINE_APPROVED = b"Y3"
ARC_OFFLINE_DECLINED = b"Z3"

# The ICC data an acquirer wants in field 55 (and nothing secret: no PAN, no track).
FIELD55_TAGS: tuple[int, ...] = (
    0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x82,
    0x9F1A, 0x9F03, 0x9F33, 0x9F34, 0x9F35, 0x84, 0x9F09, 0x9F1E, 0x9B, 0x5F34,
)  # fmt: skip


@dataclass(frozen=True)
class TransactionInput:
    amount_minor: int
    currency_numeric: bytes  # 5F2A, e.g. 0156
    when: datetime  # local time of the terminal
    offline_allowed: bool
    transaction_type: int = 0x00  # purchase


@dataclass(frozen=True)
class GenerateAcResult:
    cid: int
    atc: bytes
    cryptogram: bytes
    iad: bytes

    @property
    def kind(self) -> str:
        return ac.cryptogram_type(self.cid)


@dataclass
class KernelState:
    app: SelectedApp
    card: CardData
    aip: bytes
    terminal: dict[int, bytes] = field(repr=False)
    tvr: Bits
    tsi: Bits
    cvm: CvmOutcome
    first: GenerateAcResult | None = None
    second: GenerateAcResult | None = None
    decline_reason: str = ""

    def icc_data(self) -> dict[int, bytes]:
        last = self.second or self.first
        values = {
            **self.terminal,
            0x82: self.aip,
            0x84: self.app.aid,
            0x95: self.tvr.to_bytes(),
            0x9B: self.tsi.to_bytes(),
            0x9F34: self.cvm.results,
        }
        if self.card.psn is not None:
            values[0x5F34] = bytes.fromhex(self.card.psn)
        if last is not None:
            values |= {0x9F26: last.cryptogram, 0x9F27: bytes([last.cid]), 0x9F36: last.atc}
            values[0x9F10] = last.iad
        return {t: values[t] for t in FIELD55_TAGS if t in values}


def _bcd(number: int, digits: int) -> bytes:
    return bytes.fromhex(f"{number:0{digits}d}")


def _parse_ac(data: bytes) -> GenerateAcResult:
    try:
        tlvs = parse(data)
    except TlvError as exc:
        raise CardError(exc.message, exc.remedy) from exc
    if tlvs and tlvs[0].tag == 0x80 and len(tlvs[0].value) >= 11:
        v = tlvs[0].value
        return GenerateAcResult(v[0], v[1:3], v[3:11], v[11:])
    cid = find_value(tlvs, 0x9F27)
    atc = find_value(tlvs, 0x9F36)
    cryptogram = find_value(tlvs, 0x9F26)
    well_formed = cid and atc and cryptogram and (len(cid), len(atc), len(cryptogram)) == (1, 2, 8)
    if tlvs and tlvs[0].tag == 0x77 and well_formed:
        assert cid and atc and cryptogram
        return GenerateAcResult(cid[0], atc, cryptogram, find_value(tlvs, 0x9F10) or b"")
    raise CardError("the card's cryptogram answer is malformed", "Use another card.")


class EmvKernel:
    """One transaction on one card. Every method runs on the reader's device
    thread (the transport is not shared)."""

    def __init__(
        self,
        transport: Transport,
        config: TerminalConfig,
        choose: Chooser,
        rng: random.Random | None = None,
    ) -> None:
        self.t = transport
        self.cfg = config
        self.choose = choose
        self.rng = rng or random.Random(secrets.randbits(64))
        self.state: KernelState | None = None

    def _terminal_data(self, txn: TransactionInput) -> dict[int, bytes]:
        return {
            0x9F02: _bcd(txn.amount_minor, 12),
            0x9F03: bytes(6),
            0x9F1A: self.cfg.country_code,
            0x5F2A: txn.currency_numeric,
            0x9A: bytes.fromhex(txn.when.strftime("%y%m%d")),
            0x9F21: bytes.fromhex(txn.when.strftime("%H%M%S")),
            0x9C: bytes([txn.transaction_type]),
            0x9F37: secrets.token_bytes(4),
            0x9F35: bytes([self.cfg.terminal_type]),
            0x9F33: self.cfg.capabilities,
            0x9F40: self.cfg.additional_capabilities,
            0x9F09: self.cfg.app_version,
            0x9F1E: self.cfg.ifd_serial,
            0x9F7A: b"\x00",
        }

    def first_ac(self, txn: TransactionInput) -> KernelState:
        app, _ = select_application(self.t, self.choose)
        terminal = self._terminal_data(txn)
        aip, afl = get_processing_options(self.t, build_dol(parse_dol(app.pdol), terminal))
        card = CardData.from_values(read_application_data(self.t, afl))
        bits_tvr, bits_tsi = tvr(), tsi()
        # This terminal performs no offline data authentication.
        bits_tvr.set(TvrBit.ODA_NOT_PERFORMED)
        processing_restrictions(card, self.cfg, txn.when.date(), bits_tvr)
        same_currency = card.get(0x9F42) == txn.currency_numeric
        cvm = verify_cardholder(
            card.get(0x8E), aip, txn.amount_minor, same_currency, self.cfg, bits_tvr, bits_tsi
        )
        if aip[0] & 0x08:
            terminal_risk_management(
                self.t, card, txn.amount_minor, self.cfg, self.rng, bits_tvr, bits_tsi
            )
        state = KernelState(app, card, aip, terminal, bits_tvr, bits_tsi, cvm)
        self.state = state
        if cvm.failed:
            state.decline_reason = (
                "this card needs a PIN and this terminal has no PIN pad"
                if cvm.pin_required
                else "the card's cardholder verification could not be met"
            )
            wanted = "AAC"
        else:
            wanted = action_analysis(
                bits_tvr, self.cfg, ActionCodes.issuer(card), txn.offline_allowed
            )
            if wanted == "AAC":
                state.decline_reason = "the card or terminal rules decline this transaction"
        state.first = self._generate(
            _P1[wanted], card.get(0x8C), terminal | {0x95: bits_tvr.to_bytes()}
        )
        _answered(state.first.cid, wanted)
        bits_tsi.set(TsiBit.CARD_RISK_MANAGEMENT_PERFORMED)
        if state.first.cid & 0xC0 == ac.CID_AAC and not state.decline_reason:
            state.decline_reason = "the card declined the transaction"
        return state

    def _generate(self, p1: int, dol: bytes | None, values: dict[int, bytes]) -> GenerateAcResult:
        data = build_dol(parse_dol(dol or b""), values)
        resp = self.t.transmit(apdu.generate_ac(p1, data))
        if not resp.ok:
            raise CardError(
                f"the card could not make its cryptogram ({resp.sw_text()})", "Use another card."
            )
        return _parse_ac(resp.data)

    def second_ac(self, arc: bytes | None, issuer_auth: bytes | None) -> KernelState:
        """`arc` None: the host could not be reached (default action analysis)."""
        state = self.state
        if state is None or state.first is None or state.first.cid & 0xC0 != ac.CID_ARQC:
            raise CardError(
                "no online transaction is waiting for the host's answer", "Start the payment again."
            )
        if arc is None:
            wanted = default_action(state.tvr, self.cfg, ActionCodes.issuer(state.card))
            arc = ARC_OFFLINE_APPROVED if wanted == "TC" else ARC_OFFLINE_DECLINED
        else:
            wanted = "TC" if arc in (b"00", b"10", b"11") else "AAC"
        values = {**state.terminal, 0x8A: arc, 0x91: issuer_auth or b"", 0x95: state.tvr.to_bytes()}
        if issuer_auth:
            state.tsi.set(TsiBit.ISSUER_AUTHENTICATION_PERFORMED)
        state.second = self._generate(_P1[wanted], state.card.get(0x8D), values)
        kind = _answered(state.second.cid, wanted)
        if kind == ac.CID_ARQC:  # the host has answered: it cannot go online again
            raise CardError("the card asked to go online after the host's answer", _ANOTHER_CARD)
        if kind == ac.CID_AAC and wanted == "TC":
            if issuer_auth:
                state.tvr.set(TvrBit.ISSUER_AUTHENTICATION_FAILED)
            state.decline_reason = "the card declined after the host's answer"
        state.terminal[0x8A] = arc
        return state
