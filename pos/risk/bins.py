"""The BIN table: the first digits of a card number -> issuing country and brand.

A CSV (prefix,country,brand,issuer) looked up by longest matching prefix, so a
scheme-wide range ("4" -> VISA) and an issuer's own BIN ("622202" -> CN) can
live in one file. The central server may ship a fuller table later.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from pos.errors import InvalidInput
from pos.messages import Message, msg

_PREFIX_RE = re.compile(r"^[0-9]{1,8}$")

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets" / "risk"
DEFAULT_BINS = ASSETS_DIR / "bins.csv"


@dataclass(frozen=True, slots=True)
class BinInfo:
    country: str
    brand: str
    issuer: str


UNKNOWN = BinInfo("", "", "")


class BinTable:
    def __init__(self, entries: dict[str, BinInfo]) -> None:
        self._entries = entries
        self._lengths = sorted({len(p) for p in entries}, reverse=True)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, bin_digits: str) -> BinInfo:
        for n in self._lengths:
            if n <= len(bin_digits):
                hit = self._entries.get(bin_digits[:n])
                if hit is not None:
                    return hit
        return UNKNOWN

    @classmethod
    def parse(cls, text: str, source: str = "") -> BinTable:
        try:
            return cls._parse(text, source)
        except csv.Error as exc:
            raise InvalidInput(
                msg("risk.bins.not_csv", source=_named(source), detail=str(exc))
            ) from None

    @classmethod
    def _parse(cls, text: str, source_name: str) -> BinTable:
        source = _named(source_name)
        entries: dict[str, BinInfo] = {}
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header != ["prefix", "country", "brand", "issuer"]:
            raise InvalidInput(msg("risk.bins.bad_header", source=source))
        for row in reader:
            line = reader.line_num
            if not row or row[0].startswith("#"):
                continue
            if len(row) != 4:
                raise InvalidInput(msg("risk.bins.field_count", source=source, line=line))
            prefix, country, brand, issuer = (c.strip() for c in row)
            if not _PREFIX_RE.match(prefix):
                raise InvalidInput(
                    msg("risk.bins.bad_prefix", source=source, line=line, prefix=repr(prefix))
                )
            if country and not (len(country) == 2 and country.isalpha() and country.isupper()):
                raise InvalidInput(
                    msg("risk.bins.bad_country", source=source, line=line, country=repr(country))
                )
            if prefix in entries:
                raise InvalidInput(
                    msg("risk.bins.prefix_twice", source=source, line=line, prefix=prefix)
                )
            entries[prefix] = BinInfo(country, brand, issuer)
        return cls(entries)

    @classmethod
    def load(cls, path: Path = DEFAULT_BINS) -> BinTable:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(
                msg("risk.bins.unreadable", path=str(path), detail=str(exc.strerror))
            ) from exc
        return cls.parse(text, str(path))


def _named(source: str) -> str | Message:
    """Where a BIN table came from, as a person reads it (a path, or the words)."""
    return source or msg("risk.bins.table")
