"""GET PROCESSING OPTIONS in both response formats, the application file
locator, and the card data read from the records it points at."""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.emv import apdu
from drivers.emv.apdu import CardError, Transport
from pos.payments.card.pan import pan_from_bcd
from pos.payments.card.tlv import TlvError, find_value, flatten, parse

SW_CONDITIONS = 0x6985
MANDATORY = {0x5A: "PAN", 0x5F24: "expiry date", 0x8C: "CDOL1", 0x8D: "CDOL2"}


@dataclass(frozen=True)
class AflEntry:
    sfi: int
    first: int
    last: int
    oda_records: int


def parse_afl(raw: bytes) -> list[AflEntry]:
    if len(raw) % 4:
        raise CardError("the card's file locator is malformed", "Use another card.")
    out = []
    for i in range(0, len(raw), 4):
        sfi, first, last, oda = raw[i] >> 3, raw[i + 1], raw[i + 2], raw[i + 3]
        if not 1 <= sfi <= 30 or first == 0 or last < first or oda > last - first + 1:
            raise CardError("the card's file locator is malformed", "Use another card.")
        out.append(AflEntry(sfi, first, last, oda))
    return out


def get_processing_options(t: Transport, pdol_data: bytes) -> tuple[bytes, list[AflEntry]]:
    """AIP and AFL; `None` data means the card refused the conditions."""
    resp = t.transmit(apdu.get_processing_options(pdol_data))
    if resp.sw == SW_CONDITIONS:
        raise CardError(
            "the card does not accept this transaction (conditions of use)",
            "Choose another application or payment method.",
        )
    if not resp.ok:
        raise CardError(f"the card refused to start ({resp.sw_text()})", "Use another card.")
    try:
        tlvs = parse(resp.data)
    except TlvError as exc:
        raise CardError(exc.message, exc.remedy) from exc
    if tlvs and tlvs[0].tag == 0x80:
        value = tlvs[0].value
        if len(value) < 2:
            raise CardError("the card's processing options are malformed", "Use another card.")
        return value[:2], parse_afl(value[2:])
    aip = find_value(tlvs, 0x82)
    afl = find_value(tlvs, 0x94)
    if tlvs and tlvs[0].tag == 0x77 and aip is not None and len(aip) == 2 and afl is not None:
        return aip, parse_afl(afl)
    raise CardError("the card's processing options are malformed", "Use another card.")


def read_application_data(t: Transport, afl: list[AflEntry]) -> dict[int, bytes]:
    values: dict[int, bytes] = {}
    for entry in afl:
        for record in range(entry.first, entry.last + 1):
            resp = t.transmit(apdu.read_record(entry.sfi, record))
            if not resp.ok:
                raise CardError(
                    f"the card could not read its record {entry.sfi}/{record} ({resp.sw_text()})",
                    "Remove the card, insert it again, or use another card.",
                )
            tlvs = parse(resp.data)
            if len(tlvs) != 1 or tlvs[0].tag != 0x70:
                raise CardError("a card record is malformed", "Use another card.")
            for tag, value in flatten(tlvs).items():
                if tag in values:
                    raise CardError("the card repeats a data element", "Use another card.")
                values[tag] = value
    missing = [name for tag, name in MANDATORY.items() if tag not in values]
    if missing:
        raise CardError(f"the card lacks its {', '.join(missing)}", "Use another card.")
    return values


@dataclass(frozen=True)
class CardData:
    """What the records say. `pan` and `track2` are secrets: they go to the
    acquirer and nowhere else, and they are not in the repr."""

    values: dict[int, bytes] = field(repr=False)
    pan: str = field(repr=False)

    @staticmethod
    def from_values(values: dict[int, bytes]) -> CardData:
        return CardData(values=values, pan=pan_from_bcd(values[0x5A]))

    def get(self, tag: int) -> bytes | None:
        return self.values.get(tag)

    @property
    def expiry(self) -> str:
        """YYMMDD."""
        return self.values[0x5F24].hex()

    @property
    def effective(self) -> str | None:
        raw = self.values.get(0x5F25)
        return raw.hex() if raw else None

    @property
    def psn(self) -> str | None:
        raw = self.values.get(0x5F34)
        return raw.hex() if raw else None

    @property
    def cardholder(self) -> str:
        raw = self.values.get(0x5F20, b"")
        return raw.decode("latin-1").strip()

    @property
    def track2(self) -> bytes | None:
        return self.values.get(0x57)
