"""PC/SC readers through pyscard: enumeration, waiting for a card, and the
APDU transport (with the T=0 rules of drivers.pcsc.t0). Every failure
becomes a `ReaderError` that says what to do."""

from __future__ import annotations

import logging
from collections.abc import Callable

from smartcard import scard
from smartcard.Exceptions import NoCardException, SmartcardException
from smartcard.pcsc.PCSCExceptions import BaseSCardException
from smartcard.pcsc.PCSCReader import PCSCReader
from smartcard.System import readers as _system_readers

from drivers.emv.apdu import Response
from drivers.pcsc.t0 import ApduExchange
from pos.clock import Clock
from pos.errors import PosError
from pos.messages import msg
from pos.payments.card.port import CardNotInserted, CardSessionLost, CardWaitCancelled

log = logging.getLogger(__name__)


class ReaderError(PosError):
    pass


class PcscUnavailable(ReaderError):
    def __init__(self, detail: str) -> None:
        super().__init__(msg("pcsc.unavailable", detail=detail))


class ReaderNotFound(ReaderError):
    def __init__(self, name: str, present: list[str]) -> None:
        if present:
            super().__init__(msg("pcsc.not_found", name=name, readers=", ".join(present)))
        else:
            super().__init__(msg("pcsc.not_found_none", name=name))


class ReaderUnplugged(ReaderError, CardSessionLost):
    def __init__(self, name: str) -> None:
        super().__init__(msg("pcsc.unplugged", name=name))


class CardWaitStopped(ReaderError, CardWaitCancelled):
    def __init__(self) -> None:
        super().__init__(msg("pcsc.wait_stopped"))


class CardRemoved(ReaderError, CardSessionLost):
    def __init__(self) -> None:
        super().__init__(msg("pcsc.card_removed"))


class NoCardInserted(ReaderError, CardNotInserted):
    def __init__(self) -> None:
        super().__init__(msg("pcsc.no_card"))


class CardMute(ReaderError):
    def __init__(self, detail: str) -> None:
        super().__init__(msg("pcsc.card_mute", detail=detail))


_REMOVED = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD}
_UNPLUGGED = {scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_UNKNOWN_READER}
_SETTLING = {
    scard.SCARD_W_UNPOWERED_CARD,
    scard.SCARD_W_UNRESPONSIVE_CARD,
    scard.SCARD_W_RESET_CARD,
    scard.SCARD_E_NO_SMARTCARD,
}
_NO_SERVICE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED}


def reader_error(exc: SmartcardException, reader: str) -> ReaderError:
    """The PC/SC failure as the cashier should hear it."""
    code = exc.hresult & 0xFFFFFFFF if exc.hresult not in (None, -1) else None
    text = str(exc)
    if code in _REMOVED or "removed" in text.lower():
        return CardRemoved()
    if code in _UNPLUGGED:
        return ReaderUnplugged(reader)
    if code in _NO_SERVICE:
        return PcscUnavailable(text)
    if isinstance(exc, NoCardException):
        return NoCardInserted()
    return CardMute(text)


def list_readers() -> list[str]:
    try:
        return [str(r) for r in _system_readers()]
    except (SmartcardException, BaseSCardException) as exc:
        # pyscard raises its PC/SC context errors outside SmartcardException.
        if (exc.hresult or 0) & 0xFFFFFFFF == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        raise PcscUnavailable(str(exc)) from exc


def resolve_reader(name: str | None) -> str:
    present = list_readers()
    if not present:
        raise ReaderError(msg("pcsc.no_reader"))
    if name is None:
        return present[0]
    if name in present:
        return name
    partial = [r for r in present if name.lower() in r.lower()]
    if len(partial) == 1:
        return partial[0]
    raise ReaderNotFound(name, present)


def card_present(reader: str) -> bytes | None:
    """The ATR of the card in `reader`, or None when the slot is empty."""
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise PcscUnavailable(scard.SCardGetErrorMessage(hresult))
    try:
        hresult, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        if hresult != scard.SCARD_S_SUCCESS:
            raise ReaderUnplugged(reader)
        _, state, atr = states[0]
        if state & scard.SCARD_STATE_UNKNOWN:
            raise ReaderUnplugged(reader)
        return bytes(atr) if state & scard.SCARD_STATE_PRESENT else None
    finally:
        scard.SCardReleaseContext(ctx)


def wait_for_card(
    reader: str, clock: Clock, timeout: float, cancelled: Callable[[], bool] = lambda: False
) -> bytes:
    """Blocks until a card is in `reader` (its ATR), the timeout, or cancel."""
    deadline = clock.monotonic() + timeout
    while True:
        atr = card_present(reader)
        if atr is not None:
            return atr
        if cancelled():
            raise CardWaitStopped()
        if clock.monotonic() >= deadline:
            raise NoCardInserted()
        clock.sleep(0.05)


class PcscTransport:
    """An open connection to the card in one reader."""

    def __init__(self, reader: str, clock: Clock, settle_s: float = 1.0) -> None:
        self.reader = reader
        self._clock = clock
        self.exchange = ApduExchange(self._raw)
        # Just after insertion the reader may still be powering the card up.
        deadline = clock.monotonic() + settle_s
        while True:
            self._conn = PCSCReader(reader).createConnection()
            try:
                self._conn.connect()
                break
            except SmartcardException as exc:
                self._release()
                code = exc.hresult & 0xFFFFFFFF if exc.hresult not in (None, -1) else None
                if code not in _SETTLING or clock.monotonic() >= deadline:
                    raise reader_error(exc, reader) from exc
                clock.sleep(0.05)
        self.atr = bytes(self._conn.getATR())

    def _raw(self, apdu: bytes) -> Response:
        try:
            data, sw1, sw2 = self._conn.transmit(list(apdu))
        except SmartcardException as exc:
            error = reader_error(exc, self.reader)
            if isinstance(error, CardMute) and self._slot_emptied():
                raise CardRemoved() from exc
            raise error from exc
        return Response(bytes(data), sw1, sw2)

    def _slot_emptied(self, within_s: float = 1.0) -> bool:
        """A card that goes mute and then is gone was pulled, not broken; the
        reader reports the empty slot a moment after the failed exchange."""
        deadline = self._clock.monotonic() + within_s
        while True:
            try:
                if card_present(self.reader) is None:
                    return True
            except ReaderError:
                return False
            if self._clock.monotonic() >= deadline:
                return False
            self._clock.sleep(0.02)

    def transmit(self, apdu: bytes) -> Response:
        return self.exchange.transmit(apdu)

    def _release(self) -> None:
        # Each connection holds its own PC/SC context: released here, not
        # whenever the garbage collector gets to it (maybe after pcscd is gone).
        try:
            self._conn.release()
        except SmartcardException:
            log.debug("card connection already gone")

    def close(self) -> None:
        self._release()
