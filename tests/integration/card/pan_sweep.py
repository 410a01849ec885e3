"""Looking for card numbers where the terminal writes: the decrypted tables,
raw files (database, WAL, configuration) and log text. A find is named by
where it was, never by the number."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pos.payments.card.pan import luhn_valid
from pos.store import Database

# A digit run inside lower-case hex (ids, tokens, hashes) is part of that
# random text; track 2 and BCD dumps are upper-case hex and still count.
DIGIT_RUN = re.compile(rb"(?<![0-9a-f])[0-9]{13,19}(?![0-9a-f])")
# Cryptographic outputs are random text; a digit run in them is chance, not a
# card. Columns, and keys inside JSON documents (journal payloads), by name.
RANDOM_COLUMNS = {
    "hash", "prev_hash", "signature", "card_token", "sealed_card", "public_key", "key_id",
}  # fmt: skip


def card_forms(pan: str) -> list[bytes]:
    """The card number as text, as BCD (5A, 57) and as hex text of that BCD."""
    bcd = bytes.fromhex(pan + ("F" if len(pan) % 2 else ""))
    return [pan.encode(), bcd, bcd.hex().encode(), bcd.hex().upper().encode()]


# Issuer identification prefixes of the card schemes, a little wider than
# they are (Visa 4; Mastercard 51-55 and 22-27; Amex, JCB, Diners 3;
# UnionPay 62; Discover 6011, 644-649, 65). Product barcodes (69...), times
# (2026...) and ids are digit runs too, and one in ten of them passes Luhn
# by chance; a card number also has a scheme prefix.
_IIN = re.compile(rb"^(4|5[1-5]|2[2-7]|3|62|6011|64[4-9]|65)")


def looks_like_pan(run: bytes) -> bool:
    return bool(_IIN.match(run)) and luhn_valid(run.decode())


def pan_like_runs(data: bytes) -> list[str]:
    """Digit runs that could be a card number (scheme prefix and Luhn check),
    masked as the terminal would show one."""
    runs = [m.group().decode() for m in DIGIT_RUN.finditer(data) if looks_like_pan(m.group())]
    return [f"{r[:6]}{'*' * (len(r) - 10)}{r[-4:]}" for r in runs]


def luhn_runs(data: bytes) -> int:
    return len(pan_like_runs(data))


def sweep_bytes(where: str, data: bytes, pans: list[str], luhn: bool = True) -> list[str]:
    found = [
        f"{where}: a test card number" for pan in pans if any(f in data for f in card_forms(pan))
    ]
    if luhn and pan_like_runs(data):
        found.append(f"{where}: digit runs that look like a card number {pan_like_runs(data)}")
    return found


def _leaves(where: str, value: Any) -> Iterator[tuple[str, str, bytes]]:
    """(where, key, text) of every value, inside JSON documents too."""
    raw = value if isinstance(value, bytes) else str(value).encode()
    doc = None
    if raw[:1] in (b"{", b"["):
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
    if doc is None:
        yield where, where.rsplit(".", 1)[-1], raw
        return
    stack: list[tuple[str, Any]] = [(where, doc)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack += [(f"{path}.{k}", v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(path, v) for v in node]
        else:
            yield path, path.rsplit(".", 1)[-1], str(node).encode()


def sweep_database(db: Database, pans: list[str]) -> list[str]:
    found: list[str] = []
    with db.read() as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "card_payments" in tables and "journal" in tables
        for table in tables:
            cur = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            for row in cur.fetchall():
                for name, value in zip(names, tuple(row), strict=True):
                    for where, key, raw in _leaves(f"{table}.{name}", value):
                        found += sweep_bytes(where, raw, pans, key not in RANDOM_COLUMNS)
    return found


def sweep_files(root: Path, pans: list[str]) -> list[str]:
    """Every file under `root` (the database is ciphertext there: only the
    card's own forms are looked for, a Luhn run in random bytes is chance)."""
    found: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        found += sweep_bytes(str(path.relative_to(root)), path.read_bytes(), pans, luhn=False)
    return found
