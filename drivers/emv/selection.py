"""Application selection (EMV Book 1, section 12): the candidate list from
the payment system environment's directory, or by trying each supported AID
when the card has none; ordered by the cards' priority indicators."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from drivers.emv import apdu
from drivers.emv.aids import PSE_NAME, SUPPORTED_AIDS, brand_of, is_supported
from drivers.emv.apdu import CardError, Response, Transport
from pos.payments.card.tlv import Tlv, TlvError, find, find_value, parse

SW_NOT_FOUND = 0x6A82
SW_RECORD_NOT_FOUND = 0x6A83
SW_CARD_BLOCKED = 0x6A81
SW_APP_BLOCKED = 0x6283


@dataclass(frozen=True)
class Candidate:
    aid: bytes
    label: str
    priority: int | None = None
    needs_confirmation: bool = False
    preferred_name: str | None = None

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.label or brand_of(self.aid)

    def sort_key(self) -> tuple[int, int]:
        return (self.priority if self.priority else 16, 0)


@dataclass(frozen=True)
class SelectedApp:
    aid: bytes
    label: str
    preferred_name: str | None
    pdol: bytes
    language: str


def _text(raw: bytes | None) -> str:
    return raw.decode("latin-1").strip() if raw else ""


def _utf8(raw: bytes | None) -> str | None:
    if not raw:
        return None
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw.decode("latin-1").strip()


def _priority(raw: bytes | None) -> tuple[int | None, bool]:
    if not raw:
        return None, False
    return (raw[0] & 0x0F) or None, bool(raw[0] & 0x80)


def _candidate_from(entry: Tlv | Sequence[Tlv], aid: bytes) -> Candidate:
    items = entry.children if isinstance(entry, Tlv) else entry
    prio, confirm = _priority(find_value(items, 0x87))
    return Candidate(
        aid=aid,
        label=_text(find_value(items, 0x50)),
        priority=prio,
        needs_confirmation=confirm,
        preferred_name=_utf8(find_value(items, 0x9F12)),
    )


def _check_blocked(resp: Response) -> None:
    if resp.sw == SW_CARD_BLOCKED:
        raise CardError("the card is blocked", "Ask for another card or payment method.")


def _from_pse(t: Transport) -> list[Candidate] | None:
    resp = t.transmit(apdu.select(PSE_NAME))
    _check_blocked(resp)
    if not resp.ok:
        return None
    try:
        sfi_raw = find_value(parse(resp.data), 0x88)
    except TlvError:
        return None
    if not sfi_raw or not 1 <= sfi_raw[0] <= 30:
        return None
    out: list[Candidate] = []
    for record in range(1, 17):
        rec = t.transmit(apdu.read_record(sfi_raw[0], record))
        if rec.sw == SW_RECORD_NOT_FOUND:
            break
        if not rec.ok:
            return None
        try:
            tlvs = parse(rec.data)
        except TlvError:
            return None
        template = find(tlvs, 0x70)
        for entry in template.children if template else []:
            aid = entry.find(0x4F) if entry.tag == 0x61 else None
            if aid is not None and is_supported(aid.value):
                out.append(_candidate_from(entry, aid.value))
    return out or None


def _from_aid_list(t: Transport) -> list[Candidate]:
    out: list[Candidate] = []
    for known in SUPPORTED_AIDS:
        resp = t.transmit(apdu.select(known.aid))
        _check_blocked(resp)
        # A card holds a handful of applications; more "next" answers is a broken card.
        for _ in range(8):
            if not (resp.ok or resp.sw == SW_APP_BLOCKED):
                break
            try:
                tlvs = parse(resp.data)
            except TlvError:
                break
            df_name = find_value(tlvs, 0x84) or b""
            exact = df_name == known.aid
            if resp.ok and (exact or (known.partial and df_name.startswith(known.aid))):
                a5 = find(tlvs, 0xA5)
                out.append(_candidate_from(a5.children if a5 else [], df_name))
            if exact or not known.partial:
                break
            resp = t.transmit(apdu.select(known.aid, next_occurrence=True))
    return out


def candidate_list(t: Transport) -> list[Candidate]:
    found = _from_pse(t)
    if found is None:
        found = _from_aid_list(t)
    if not found:
        raise CardError(
            "the card has no payment application this terminal accepts",
            "Ask for another card or payment method.",
        )
    return sorted(found, key=Candidate.sort_key)


def final_select(t: Transport, cand: Candidate) -> SelectedApp:
    resp = t.transmit(apdu.select(cand.aid))
    _check_blocked(resp)
    if not resp.ok:
        raise CardError(
            f"the card refused to open {cand.display_name} ({resp.sw_text()})",
            "Choose another application or payment method.",
        )
    tlvs = parse(resp.data)
    a5 = find(tlvs, 0xA5)
    prop = a5.children if a5 else ()
    return SelectedApp(
        aid=find_value(tlvs, 0x84) or cand.aid,
        label=_text(find_value(prop, 0x50)) or cand.label,
        preferred_name=_utf8(find_value(prop, 0x9F12)) or cand.preferred_name,
        pdol=find_value(prop, 0x9F38) or b"",
        language=_text(find_value(prop, 0x5F2D)),
    )


Chooser = Callable[[list[Candidate]], Candidate]


def select_application(t: Transport, choose: Chooser) -> tuple[SelectedApp, list[Candidate]]:
    """Builds the list, lets the cardholder choose when there is a choice to
    make, and selects the application finally."""
    candidates = candidate_list(t)
    if len(candidates) == 1 and not candidates[0].needs_confirmation:
        chosen = candidates[0]
    else:
        chosen = choose(candidates)
        if chosen not in candidates:
            raise CardError("no application was chosen", "Start the payment again.")
    return final_select(t, chosen), candidates
