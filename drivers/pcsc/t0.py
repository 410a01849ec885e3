"""The APDU rules a reader's transport applies for T=0 cards (ISO 7816-3,
ISO 7816-4 5.3.4): 61XX means XX more bytes wait, fetched by GET RESPONSE
(and chained while the card keeps saying 61XX); 6CXX means send the same
command again with Le = XX. T=1 cards never ask, so the rules cost nothing
there."""

from __future__ import annotations

import logging
from collections.abc import Callable

from drivers.emv.apdu import CardError, Response, get_response, with_le

log = logging.getLogger(__name__)

# Chained GET RESPONSEs beyond this are a card that never stops talking.
MAX_CHAIN = 32


class ApduExchange:
    """A Transport over a raw exchange; counts every APDU on the wire and
    logs only command headers (response data can be card data)."""

    def __init__(self, raw: Callable[[bytes], Response]) -> None:
        self._raw = raw
        self.count = 0

    def _send(self, apdu: bytes) -> Response:
        resp = self._raw(apdu)
        self.count += 1
        log.debug("APDU %s -> %04X", apdu[:4].hex(), resp.sw)
        return resp

    def transmit(self, apdu: bytes) -> Response:
        resp = self._send(apdu)
        if resp.sw1 == 0x6C:
            resp = self._send(with_le(apdu, resp.sw2))
        data = resp.data
        chained = 0
        while resp.sw1 == 0x61:
            chained += 1
            if chained > MAX_CHAIN:
                raise CardError(
                    "the card kept asking to be read",
                    "Remove the card, insert it again or take another method.",
                )
            resp = self._send(get_response(resp.sw2))
            data += resp.data
        return Response(data, resp.sw1, resp.sw2)


def split_response(raw: bytes) -> Response:
    if len(raw) < 2:
        raise CardError("the card's answer has no status word", "Insert the card again.")
    return Response(raw[:-2], raw[-2], raw[-1])
