"""BER-TLV as EMV uses it (EMV Book 3, Annex B): multi-byte tags, long-form
lengths, constructed objects, 00/FF padding between objects.

It lives in the core because both sides of a card payment speak it: the
terminal's EMV kernel (drivers/emv) and the acquirer's field 55 here.
Any byte string turns into data or a `TlvError`; never another exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from pos.errors import PosError

_MAX_TAG_BYTES = 4
_MAX_LENGTH_BYTES = 4
# Nesting deeper than this is no EMV structure, only a way to exhaust the stack.
_MAX_DEPTH = 16


class TlvError(PosError):
    """A card or host sent bytes that are not valid BER-TLV."""

    def __init__(self, message: str) -> None:
        super().__init__(
            f"malformed card data: {message}",
            "Ask for the card to be removed and inserted again; if it repeats, "
            "take another payment method.",
        )


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    children: tuple[Tlv, ...] = ()

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def find(self, tag: int) -> Tlv | None:
        return find(self.children, tag)


def tag_bytes(tag: int) -> bytes:
    raw = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big") if tag > 0 else b""
    multi = len(raw) > 1
    well_formed = (
        0 < len(raw) <= _MAX_TAG_BYTES
        and ((raw[0] & 0x1F) == 0x1F) == multi
        and all(b & 0x80 for b in raw[1:-1])
        and not (multi and raw[-1] & 0x80)
    )
    if not well_formed:
        raise TlvError(f"{tag:#x} is not a BER-TLV tag")
    return raw


def is_constructed(tag: int) -> bool:
    return bool(tag_bytes(tag)[0] & 0x20)


def tag_name(tag: int) -> str:
    return tag_bytes(tag).hex().upper()


def encode_length(n: int) -> bytes:
    if n < 0:
        raise TlvError("negative length")
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(body) > _MAX_LENGTH_BYTES:
        raise TlvError("value too long")
    return bytes([0x80 | len(body)]) + body


def encode(tag: int, value: bytes) -> bytes:
    return tag_bytes(tag) + encode_length(len(value)) + value


def encode_constructed(tag: int, parts: Iterable[bytes]) -> bytes:
    if not is_constructed(tag):
        raise TlvError(f"tag {tag_name(tag)} is primitive")
    return encode(tag, b"".join(parts))


def encode_many(items: Iterable[tuple[int, bytes]]) -> bytes:
    return b"".join(encode(t, v) for t, v in items)


def read_tag(data: bytes, pos: int) -> tuple[int, int]:
    """The tag starting at `pos` and the position after it."""
    if pos >= len(data):
        raise TlvError("tag expected, data ended")
    start = pos
    first = data[pos]
    pos += 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise TlvError("multi-byte tag cut short")
            b = data[pos]
            pos += 1
            if pos - start > _MAX_TAG_BYTES:
                raise TlvError("tag longer than 4 bytes")
            if not b & 0x80:
                break
    return int.from_bytes(data[start:pos], "big"), pos


def read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError("length expected, data ended")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0:
        raise TlvError("indefinite length is not allowed")
    if count > _MAX_LENGTH_BYTES:
        raise TlvError(f"length of {count} bytes is not allowed")
    if pos + count > len(data):
        raise TlvError("length cut short")
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def parse(data: bytes) -> list[Tlv]:
    """Every object in `data`, constructed ones with their children parsed."""
    return _parse(bytes(data), 0)


def _parse(data: bytes, depth: int) -> list[Tlv]:
    if depth > _MAX_DEPTH:
        raise TlvError("nested too deeply")
    out: list[Tlv] = []
    pos = 0
    while pos < len(data):
        if data[pos] in (0x00, 0xFF):
            pos += 1
            continue
        tag, pos = read_tag(data, pos)
        length, pos = read_length(data, pos)
        end = pos + length
        if end > len(data):
            raise TlvError(f"tag {tag_name(tag)} says {length} bytes, {len(data) - pos} remain")
        value = data[pos:end]
        children = tuple(_parse(value, depth + 1)) if is_constructed(tag) else ()
        out.append(Tlv(tag, value, children))
        pos = end
    return out


def walk(tlvs: Iterable[Tlv]) -> Iterator[Tlv]:
    """Depth-first, parents before children."""
    for t in tlvs:
        yield t
        yield from walk(t.children)


def find(tlvs: Iterable[Tlv], tag: int) -> Tlv | None:
    for t in walk(tlvs):
        if t.tag == tag:
            return t
    return None


def find_value(tlvs: Iterable[Tlv], tag: int) -> bytes | None:
    t = find(tlvs, tag)
    return None if t is None else t.value


def flatten(tlvs: Iterable[Tlv]) -> dict[int, bytes]:
    """Primitive objects by tag; the first occurrence wins."""
    out: dict[int, bytes] = {}
    for t in walk(tlvs):
        if not t.constructed and t.tag not in out:
            out[t.tag] = t.value
    return out


def encode_dict(values: Mapping[int, bytes]) -> bytes:
    return encode_many(sorted(values.items()))
