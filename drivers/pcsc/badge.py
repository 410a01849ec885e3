"""Staff badges on the PC/SC reader the payment cards use: the BadgeReader
port of pos.auth_badge over pyscard and pcscd. Registered in the
`pos.badge_readers` entry-point group."""

from __future__ import annotations

from drivers.badge_applet import (
    BADGE_AID,
    INS_INTERNAL_AUTHENTICATE,
    INS_KEY_PAIR,
    P1_GENERATE,
    P1_READ,
    SW_NO_KEY,
    TAG_BADGE_ID,
    TAG_PUBLIC_KEY,
)
from drivers.emv.apdu import Response, select
from drivers.pcsc.reader import PcscTransport, ReaderError, resolve_reader, wait_for_card
from pos.auth_badge import CHALLENGE_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES
from pos.clock import Clock, SystemClock
from pos.errors import NotAllowed
from pos.messages import msg
from pos.payments.card.tlv import TlvError, parse


def _find(data: bytes, tag: int) -> bytes | None:
    """The value of `tag` anywhere in the BER-TLV `data`."""
    for tlv in parse(data):
        if tlv.tag == tag:
            return tlv.value
        if tlv.constructed:
            found = _find(tlv.value, tag)
            if found is not None:
                return found
    return None


class PcscBadge:
    """The badge in the reader for one tap (the BadgeCard port)."""

    def __init__(self, transport: PcscTransport, badge_id: str) -> None:
        self._transport = transport
        self._badge_id = badge_id

    @property
    def badge_id(self) -> str:
        return self._badge_id

    def _send(self, apdu: bytes) -> Response:
        return self._transport.transmit(apdu)

    def public_key(self) -> bytes:
        resp = self._send(bytes([0x00, INS_KEY_PAIR, P1_READ, 0x00, 0x00]))
        if resp.sw == SW_NO_KEY:
            # First enrolment: the card makes its key pair now; it never leaves.
            resp = self._send(bytes([0x00, INS_KEY_PAIR, P1_GENERATE, 0x00, 0x00]))
        key = self._value(resp, TAG_PUBLIC_KEY)
        if len(key) != PUBLIC_KEY_BYTES:
            raise NotAllowed(msg("badge.card_error", detail="public key"))
        return key

    def sign(self, purpose: bytes, challenge: bytes) -> bytes:
        data = purpose + challenge
        if len(challenge) != CHALLENGE_BYTES or len(data) > 255:
            raise NotAllowed(msg("badge.card_error", detail="challenge"))
        resp = self._send(
            bytes([0x00, INS_INTERNAL_AUTHENTICATE, 0x00, 0x00, len(data)]) + data + b"\x00"
        )
        if not resp.ok or len(resp.data) != SIGNATURE_BYTES:
            raise NotAllowed(msg("badge.card_error", detail=f"SW {resp.sw_text()}"))
        return resp.data

    def _value(self, resp: Response, tag: int) -> bytes:
        if not resp.ok:
            raise NotAllowed(msg("badge.card_error", detail=f"SW {resp.sw_text()}"))
        try:
            value = _find(resp.data, tag)
        except TlvError:
            value = None
        if value is None:
            raise NotAllowed(msg("badge.card_error", detail=f"no tag {tag:X}"))
        return value


class PcscBadgeReader:
    """A PC/SC reader asked for badges: tap waits for a card and selects the
    badge applet; a payment card there is refused as no badge."""

    def __init__(self, reader: str | None = None, clock: Clock | None = None) -> None:
        self.reader_name = reader
        self.clock = clock or SystemClock()
        self._transport: PcscTransport | None = None

    def tap(self, timeout: float) -> PcscBadge:
        self.release()
        reader = resolve_reader(self.reader_name)
        wait_for_card(reader, self.clock, timeout)
        transport = PcscTransport(reader, self.clock)
        self._transport = transport
        try:
            resp = transport.transmit(select(BADGE_AID))
            if not resp.ok:
                raise NotAllowed(msg("badge.not_a_badge"))
            try:
                raw_id = _find(resp.data, TAG_BADGE_ID)
            except TlvError:
                raw_id = None
            if raw_id is None:
                raise NotAllowed(msg("badge.not_a_badge"))
            return PcscBadge(transport, raw_id.decode("ascii", errors="replace"))
        except (NotAllowed, ReaderError):
            self.release()
            raise

    def release(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def close(self) -> None:
        self.release()


def open_reader(reader: str | None = None) -> PcscBadgeReader:
    return PcscBadgeReader(reader)
