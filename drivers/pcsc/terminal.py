"""The CardTerminal port over PC/SC: a reader, its device thread, the EMV
kernel, and a handler for the person at the terminal."""

from __future__ import annotations

import random

from drivers.emv.aids import brand_of
from drivers.emv.apdu import CardError
from drivers.emv.config import TerminalConfig
from drivers.emv.kernel import EmvKernel, KernelState, TransactionInput
from drivers.emv.selection import Candidate
from drivers.handler import CardHandler
from drivers.pcsc.device import DeviceThread, DeviceThreads, on_device_thread
from drivers.pcsc.reader import PcscTransport, ReaderError, resolve_reader, wait_for_card
from pos.clock import Clock
from pos.payments.card import cryptogram as ac
from pos.payments.card.pan import mask_pan
from pos.payments.card.port import CardCompletion, CardRead, CardRequest, numeric_currency
from pos.payments.card.tlv import encode_many

_DECISION = {ac.CID_ARQC: "online", ac.CID_TC: "offline", ac.CID_AAC: "declined"}


class PcscCardTerminal:
    """One reader. Calls block the caller; the card I/O itself runs on the
    reader's device thread."""

    def __init__(
        self,
        handler: CardHandler,
        clock: Clock,
        reader: str | None = None,
        config: TerminalConfig | None = None,
        threads: DeviceThreads | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.handler = handler
        self.clock = clock
        self.reader_name = reader
        self.config = config or TerminalConfig()
        self._threads = threads or DeviceThreads()
        self._rng = rng
        self._reader: str | None = None
        self._transport: PcscTransport | None = None
        self._kernel: EmvKernel | None = None
        self._started = 0.0

    @property
    def device_thread(self) -> DeviceThread:
        if self._reader is None:
            raise ReaderError("no reader is chosen yet", "Start the payment again.")
        return self._threads.for_reader(self._reader)

    def read_card(self, request: CardRequest) -> CardRead:
        self._reader = resolve_reader(self.reader_name)
        return self.device_thread.call(lambda: self._read_card(request))

    def complete(self, arc: str | None, issuer_auth: bytes | None) -> CardCompletion:
        return self.device_thread.call(lambda: self._complete(arc, issuer_auth))

    def end(self, message: str) -> None:
        if self._reader is None:
            return
        self.device_thread.call(lambda: self._end(message))

    def _choose(self, candidates: list[Candidate]) -> Candidate:
        index = self.handler.choose_application([c.display_name for c in candidates])
        if index is None or not 0 <= index < len(candidates):
            raise CardError("no card application was chosen", "Start the payment again.")
        return candidates[index]

    @on_device_thread
    def _read_card(self, request: CardRequest) -> CardRead:
        assert self._reader is not None
        self.handler.insert_card(self._reader, request.amount.amount_text())
        wait_for_card(
            self._reader,
            self.clock,
            self.config.card_timeout_s,
            lambda: self.handler.cancelled() or request.cancelled(),
        )
        self._started = self.clock.monotonic()
        self._transport = PcscTransport(self._reader, self.clock)
        self._kernel = EmvKernel(self._transport, self.config, self._choose, self._rng)
        txn = TransactionInput(
            amount_minor=request.amount.minor,
            currency_numeric=bytes.fromhex(numeric_currency(request.amount.currency).zfill(4)),
            when=request.when,
            offline_allowed=request.offline_allowed,
        )
        state = self._kernel.first_ac(txn)
        assert state.first is not None
        self.handler.show_message("Processing, keep the card in")
        return self._card_read(state)

    def _card_read(self, state: KernelState) -> CardRead:
        first = state.first
        assert first is not None and self._transport is not None
        track2 = state.card.track2
        return CardRead(
            decision=_DECISION.get(first.cid & 0xC0, "declined"),
            decline_reason=state.decline_reason,
            masked_pan=mask_pan(state.card.pan),
            expiry=state.card.expiry[:4],
            psn=state.card.psn,
            aid=state.app.aid.hex().upper(),
            label=state.app.preferred_name or state.app.label,
            brand=brand_of(state.app.aid),
            atc=int.from_bytes(first.atc, "big"),
            cryptogram=first.cryptogram.hex().upper(),
            cryptogram_type=first.kind,
            tvr=state.tvr.hex(),
            tsi=state.tsi.hex(),
            cvm=state.cvm.method,
            icc_data=encode_many(state.icc_data().items()),
            apdu_count=self._transport.exchange.count,
            elapsed_ms=(self.clock.monotonic() - self._started) * 1000,
            pan=state.card.pan,
            track2=track2.hex().upper().rstrip("F") if track2 else "",
        )

    @on_device_thread
    def _complete(self, arc: str | None, issuer_auth: bytes | None) -> CardCompletion:
        if self._kernel is None:
            raise ReaderError("no card transaction is open", "Start the payment again.")
        state = self._kernel.second_ac(arc.encode() if arc else None, issuer_auth)
        second = state.second
        assert second is not None
        return CardCompletion(
            approved=second.cid & 0xC0 == ac.CID_TC,
            cryptogram_type=second.kind,
            cryptogram=second.cryptogram.hex().upper(),
            icc_data=encode_many(state.icc_data().items()),
            tvr=state.tvr.hex(),
            decline_reason=state.decline_reason,
        )

    @on_device_thread
    def _end(self, message: str) -> None:
        if self._transport is not None:
            self._transport.close()
        self._transport, self._kernel = None, None
        self.handler.remove_card(message)

    def close(self) -> None:
        self._threads.stop_all()
