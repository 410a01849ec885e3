"""The emulated EMV card: APDU in, response out, with the state a real card
keeps (ATC, last online ATC, consecutive offline count) and its own risk
decisions in GENERATE AC."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from drivers.emv.aids import PSE_NAME
from drivers.emv.dol import parse_dol, split_dol
from drivers.virtualcard.profiles import AppSpec, CardProfile
from pos.payments.card import cryptogram as ac
from pos.payments.card.tlv import TlvError, encode, encode_constructed, encode_many, parse

SW_OK = b"\x90\x00"
SW_NOT_FOUND = b"\x6a\x82"
SW_RECORD_NOT_FOUND = b"\x6a\x83"
SW_CONDITIONS = b"\x69\x85"
SW_WRONG_DATA = b"\x6a\x80"
SW_WRONG_LENGTH = b"\x67\x00"
SW_INS = b"\x6d\x00"
SW_CLA = b"\x6e\x00"
SW_P1P2 = b"\x6b\x00"

_APPROVED_ARC = {b"00", b"10", b"11"}
_ARC_OFFLINE_APPROVE = b"Y3"


@dataclass
class CardState:
    atc: int
    last_online_atc: int
    offline_count: int = 0


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None

    @staticmethod
    def parse(apdu: bytes) -> Command | None:
        if len(apdu) < 4:
            return None
        cla, ins, p1, p2 = apdu[:4]
        if len(apdu) == 4:
            return Command(cla, ins, p1, p2, b"", None)
        if len(apdu) == 5:
            return Command(cla, ins, p1, p2, b"", apdu[4])
        lc = apdu[4]
        if len(apdu) == 5 + lc:
            return Command(cla, ins, p1, p2, apdu[5 : 5 + lc], None)
        if len(apdu) == 6 + lc:
            return Command(cla, ins, p1, p2, apdu[5 : 5 + lc], apdu[5 + lc])
        return None


class EmvCard:
    """One card. `respond` is called from the vpcd thread only; the state is
    readable from tests under the lock."""

    def __init__(self, profile: CardProfile) -> None:
        self.profile = profile
        self.state = CardState(profile.atc, profile.last_online_atc)
        self.lock = threading.Lock()
        self.apdus_seen = 0
        self._reset_session()

    def _reset_session(self) -> None:
        self._selected: AppSpec | None = None
        self._pse_selected = False
        self._gpo_done = False
        self._ac_count = 0
        self._first_ac_values: dict[int, bytes] = {}
        self._first_arqc = b""
        self._pending = b""
        self._cvr = bytearray(3)

    @property
    def atr(self) -> bytes:
        return self.profile.atr

    def power_on(self) -> None:
        with self.lock:
            self._reset_session()

    # -- dispatch ---------------------------------------------------------

    def respond(self, apdu: bytes) -> bytes:
        with self.lock:
            self.apdus_seen += 1
            cmd = Command.parse(apdu)
            if cmd is None:
                return SW_WRONG_LENGTH
            if cmd.ins == 0xC0 and cmd.cla == 0x00:
                return self._get_response(cmd)
            self._pending = b""
            try:
                data, sw = self._dispatch(cmd)
            except TlvError:
                return SW_WRONG_DATA
            if sw != SW_OK:
                return sw
            return self._deliver(cmd, data)

    def _dispatch(self, cmd: Command) -> tuple[bytes, bytes]:
        handlers = {
            (0x00, 0xA4): self._select,
            (0x00, 0xB2): self._read_record,
            (0x80, 0xA8): self._gpo,
            (0x80, 0xCA): self._get_data,
            (0x80, 0xAE): self._generate_ac,
        }
        handler = handlers.get((cmd.cla, cmd.ins))
        if handler is None:
            return b"", SW_CLA if cmd.cla not in (0x00, 0x80) else SW_INS
        return handler(cmd)

    def _deliver(self, cmd: Command, data: bytes) -> bytes:
        if not self.profile.t0:
            return data + SW_OK
        # T=0: a command with data in (case 4) cannot carry its answer back;
        # the card says 61XX and the terminal fetches it with GET RESPONSE.
        if cmd.data:
            self._pending = data
            return bytes([0x61, min(len(data), 256) & 0xFF])
        # Case 2: the card wants the exact Le (6CXX) before it answers.
        want = cmd.le if cmd.le else 256
        if data and want != len(data):
            return bytes([0x6C, len(data) & 0xFF])
        return data + SW_OK

    def _get_response(self, cmd: Command) -> bytes:
        if not self._pending:
            return SW_CONDITIONS
        want = min(cmd.le or 256, self.profile.t0_chunk)
        chunk, self._pending = self._pending[:want], self._pending[want:]
        if self._pending:
            return chunk + bytes([0x61, min(len(self._pending), 256) & 0xFF])
        return chunk + SW_OK

    # -- selection --------------------------------------------------------

    def _select(self, cmd: Command) -> tuple[bytes, bytes]:
        if cmd.p1 != 0x04 or cmd.p2 not in (0x00, 0x02):
            return b"", SW_P1P2
        self._gpo_done = False
        self._ac_count = 0
        if cmd.data == PSE_NAME:
            if not self.profile.pse:
                return b"", SW_NOT_FOUND
            self._pse_selected, self._selected = True, None
            fci = encode_constructed(
                0x6F,
                [
                    encode(0x84, PSE_NAME),
                    encode_constructed(0xA5, [encode(0x88, b"\x01"), encode(0x5F2D, b"zhen")]),
                ],
            )
            return fci, SW_OK
        matches = [a for a in self.profile.applications if a.aid.startswith(cmd.data)]
        if cmd.p2 == 0x02:
            current = self._selected
            if current in matches:
                matches = matches[matches.index(current) + 1 :]
        if not matches:
            return b"", SW_NOT_FOUND
        app = matches[0]
        self._pse_selected, self._selected = False, app
        return self._app_fci(app), SW_OK

    def _app_fci(self, app: AppSpec) -> bytes:
        prop = [encode(0x50, app.label.encode())]
        if app.priority is not None:
            prop.append(encode(0x87, bytes([app.priority])))
        if self.profile.pdol:
            prop.append(encode(0x9F38, self.profile.pdol))
        prop.append(encode(0x5F2D, b"zhen"))
        if app.preferred_name:
            prop += [encode(0x9F12, app.preferred_name.encode()), encode(0x9F11, b"\x01")]
        return encode_constructed(0x6F, [encode(0x84, app.aid), encode_constructed(0xA5, prop)])

    # -- records ----------------------------------------------------------

    def _records(self) -> dict[tuple[int, int], bytes]:
        p = self.profile
        exp_yymm = p.expiry[:4]
        track2 = bytes.fromhex(_pad_f(f"{p.pan}D{exp_yymm}{p.service_code}0000000000"))
        rec1 = [
            (0x57, track2),
            (0x5F20, p.cardholder.encode()),
            (0x9F1F, b"0000000000"),
        ]
        rec2 = [
            (0x5A, bytes.fromhex(_pad_f(p.pan))),
            (0x5F24, bytes.fromhex(p.expiry)),
            (0x5F25, bytes.fromhex(p.effective)),
            (0x5F28, p.issuer_country),
            (0x5F34, bytes.fromhex(p.psn)),
            (0x9F07, p.auc),
            (0x9F08, p.app_version),
            (0x9F42, p.app_currency),
            (0x8C, p.cdol1),
            (0x8D, p.cdol2),
            (0x8E, p.cvm_list),
            (0x9F0D, p.iac_default),
            (0x9F0E, p.iac_denial),
            (0x9F0F, p.iac_online),
        ]
        rec3: list[tuple[int, bytes]] = [(0x5F30, bytes.fromhex("0" + p.service_code))]
        if p.lower_offline_limit is not None:
            rec3.append((0x9F14, bytes([p.lower_offline_limit])))
        if p.upper_offline_limit is not None:
            rec3.append((0x9F23, bytes([p.upper_offline_limit])))
        return {
            (2, 1): encode(0x70, encode_many(rec1)),
            (3, 1): encode(0x70, encode_many(rec2)),
            (3, 2): encode(0x70, encode_many(rec3)),
        }

    def _pse_records(self) -> dict[tuple[int, int], bytes]:
        entries = []
        for app in self.profile.applications:
            parts = [encode(0x4F, app.aid), encode(0x50, app.label.encode())]
            if app.priority is not None:
                parts.append(encode(0x87, bytes([app.priority])))
            if app.preferred_name:
                parts.append(encode(0x9F12, app.preferred_name.encode()))
            entries.append(encode_constructed(0x61, parts))
        return {(1, 1): encode(0x70, b"".join(entries))}

    def _read_record(self, cmd: Command) -> tuple[bytes, bytes]:
        if cmd.p2 & 0x07 != 0x04:
            return b"", SW_P1P2
        key = (cmd.p2 >> 3, cmd.p1)
        if self._pse_selected:
            table = self._pse_records()
        elif self._selected is not None and self._gpo_done:
            table = self._records()
        else:
            return b"", SW_CONDITIONS
        record = table.get(key)
        return (record, SW_OK) if record else (b"", SW_RECORD_NOT_FOUND)

    # -- processing -------------------------------------------------------

    def _afl(self) -> bytes:
        return bytes.fromhex("10010100" + "18010200")

    def _gpo(self, cmd: Command) -> tuple[bytes, bytes]:
        if self._selected is None:
            return b"", SW_CONDITIONS
        tlvs = parse(cmd.data)
        if len(tlvs) != 1 or tlvs[0].tag != 0x83:
            return b"", SW_WRONG_DATA
        split_dol(parse_dol(self.profile.pdol), tlvs[0].value)
        self.state.atc = (self.state.atc + 1) & 0xFFFF
        self._gpo_done = True
        aip, afl = self.profile.aip, self._afl()
        if self.profile.gpo_format == 1:
            return encode(0x80, aip + afl), SW_OK
        return encode(0x77, encode_many([(0x82, aip), (0x94, afl)])), SW_OK

    def _get_data(self, cmd: Command) -> tuple[bytes, bytes]:
        tag = (cmd.p1 << 8) | cmd.p2
        values = {
            0x9F36: self.state.atc.to_bytes(2, "big"),
            0x9F13: self.state.last_online_atc.to_bytes(2, "big"),
        }
        if tag not in values:
            return b"", SW_NOT_FOUND
        return encode(tag, values[tag]), SW_OK

    # -- cryptograms ------------------------------------------------------

    def _session_key(self) -> bytes:
        p = self.profile
        mk = ac.derive_icc_master_key(p.imk, p.pan, p.psn)
        return ac.derive_session_key(mk, self.state.atc.to_bytes(2, "big"))

    def _iad(self) -> bytes:
        return bytes.fromhex("06010A03") + bytes(self._cvr)

    def _generate_ac(self, cmd: Command) -> tuple[bytes, bytes]:
        if not self._gpo_done or self._ac_count >= 2:
            return b"", SW_CONDITIONS
        requested = cmd.p1 & 0xC0
        if self._ac_count == 0:
            values = split_dol(parse_dol(self.profile.cdol1), cmd.data)
            self._first_ac_values = values
            cid = self._first_decision(requested)
        else:
            if self._first_arqc == b"":
                return b"", SW_CONDITIONS
            values = {**self._first_ac_values, **split_dol(parse_dol(self.profile.cdol2), cmd.data)}
            cid = self._second_decision(requested, values)
        self._ac_count += 1
        self._cvr[0] = cid
        self._cvr[2] = min(self.state.offline_count, 0xFF)
        values = {
            **values,
            0x82: self.profile.aip,
            0x9F36: self.state.atc.to_bytes(2, "big"),
            0x9F10: self._iad(),
        }
        cryptogram = ac.compute_cryptogram(self._session_key(), values)
        if cid == ac.CID_ARQC:
            self._first_arqc = cryptogram
        elif self._ac_count == 1:
            # A final cryptogram at the first GENERATE AC ends the transaction.
            self._ac_count = 2
        atc = self.state.atc.to_bytes(2, "big")
        if self.profile.gpo_format == 1:
            return encode(0x80, bytes([cid]) + atc + cryptogram + self._iad()), SW_OK
        items = [(0x9F27, bytes([cid])), (0x9F36, atc), (0x9F26, cryptogram), (0x9F10, self._iad())]
        return encode(0x77, encode_many(items)), SW_OK

    def _offline_room(self) -> bool:
        limit = self.profile.upper_offline_limit
        return limit is not None and self.state.offline_count < limit

    def _first_decision(self, requested: int) -> int:
        if requested == ac.CID_AAC:
            return ac.CID_AAC
        if requested == ac.CID_TC and self._offline_room() and self.state.last_online_atc:
            self.state.offline_count += 1
            return ac.CID_TC
        return ac.CID_ARQC

    def _second_decision(self, requested: int, values: dict[int, bytes]) -> int:
        arc = values.get(0x8A, b"")
        iad = values.get(0x91, b"")
        if requested != ac.CID_TC:
            return ac.CID_AAC
        if arc in _APPROVED_ARC:
            if any(iad):
                expected = ac.compute_arpc(self._session_key(), self._first_arqc, iad[8:10])
                if iad[:8] != expected or iad[8:10] != arc:
                    self._cvr[1] |= 0x01
                    return ac.CID_AAC
            self.state.last_online_atc = self.state.atc
            self.state.offline_count = 0
            return ac.CID_TC
        if arc == _ARC_OFFLINE_APPROVE and self._offline_room():
            self.state.offline_count += 1
            return ac.CID_TC
        return ac.CID_AAC


def _pad_f(digits: str) -> str:
    return digits + ("F" if len(digits) % 2 else "")
