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
    def parse(cls, text: str, source: str = "BIN table") -> BinTable:
        try:
            return cls._parse(text, source)
        except csv.Error as exc:
            raise InvalidInput(f"{source}: not a CSV table: {exc}", "fix the BIN table") from None

    @classmethod
    def _parse(cls, text: str, source: str) -> BinTable:
        entries: dict[str, BinInfo] = {}
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header != ["prefix", "country", "brand", "issuer"]:
            raise InvalidInput(
                f"{source}: the first line must be 'prefix,country,brand,issuer'",
                "fix the header of the BIN table",
            )
        for row in reader:
            line = reader.line_num
            if not row or row[0].startswith("#"):
                continue
            if len(row) != 4:
                raise InvalidInput(f"{source} line {line}: expected 4 fields", "fix that line")
            prefix, country, brand, issuer = (c.strip() for c in row)
            if not _PREFIX_RE.match(prefix):
                raise InvalidInput(
                    f"{source} line {line}: prefix {prefix!r} is not 1 to 8 digits", "fix that line"
                )
            if country and not (len(country) == 2 and country.isalpha() and country.isupper()):
                raise InvalidInput(
                    f"{source} line {line}: country {country!r} is not ISO 3166 alpha-2",
                    "fix that line",
                )
            if prefix in entries:
                raise InvalidInput(f"{source} line {line}: prefix {prefix} twice", "keep one")
            entries[prefix] = BinInfo(country, brand, issuer)
        return cls(entries)

    @classmethod
    def load(cls, path: Path = DEFAULT_BINS) -> BinTable:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(
                f"cannot read the BIN table {path}: {exc.strerror}", "reinstall the program assets"
            ) from exc
        return cls.parse(text, str(path))
