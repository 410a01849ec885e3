"""The chain's hot list on the terminal: card tokens, buyer ids and cashiers
the central server's analysis flagged, each with the rule that flagged it and
an expiry. It arrives signed through the configuration channel (kind
`risk_hotlist`), is stored in the terminal's `settings` table and is read
offline by the rules as the `hotlist.*` attributes. An expired entry reads
as absent, also when the terminal has been offline since.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pos import canonical
from pos.errors import InvalidInput
from pos.messages import msg
from pos.risk.repository import Connection

SUBJECTS = ("card", "account", "cashier")
SETTINGS_KEY = "risk.hotlist"
MAX_ENTRIES = 200_000


@dataclass(frozen=True, slots=True)
class HotEntry:
    subject: str  # card | account | cashier
    value: str
    rule: str  # the server analysis that listed it, e.g. "impossible-travel"
    expires_ms: int


class HotList:
    """Subject -> value -> entry. Immutable once built."""

    def __init__(self, entries: Iterable[HotEntry] = (), version: int = 0) -> None:
        self.version = version
        self._by: dict[str, dict[str, HotEntry]] = {s: {} for s in SUBJECTS}
        for e in entries:
            held = self._by[e.subject].get(e.value)
            if held is None or held.expires_ms < e.expires_ms:
                self._by[e.subject][e.value] = e

    def __len__(self) -> int:
        return sum(len(v) for v in self._by.values())

    def lookup(self, subject: str, value: str, now_ms: int) -> HotEntry | None:
        if not value:
            return None
        e = self._by[subject].get(value)
        return e if e is not None and e.expires_ms > now_ms else None

    def features(
        self, card_token: str, account: str, cashier_id: str, now_ms: int, out: dict[str, Any]
    ) -> None:
        for subject, value in (("card", card_token), ("account", account), ("cashier", cashier_id)):
            e = self.lookup(subject, value, now_ms)
            out[f"hotlist.{subject}"] = e is not None
            out[f"hotlist.{subject}_rule"] = "" if e is None else e.rule

    def entries(self) -> list[HotEntry]:
        return [e for by in self._by.values() for e in by.values()]


def parse_hotlist(doc: Mapping[str, Any], version: int) -> HotList:
    """The server's document {"entries": [{subject, value, rule, expires_ms}]}."""
    raw = doc.get("entries")
    if not isinstance(raw, list) or len(raw) > MAX_ENTRIES:
        raise InvalidInput(msg("risk.hotlist_bad", detail="entries"))
    entries: list[HotEntry] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidInput(msg("risk.hotlist_bad", detail=f"entry {i + 1}"))
        subject, value = item.get("subject"), item.get("value")
        rule, expires = item.get("rule"), item.get("expires_ms")
        if (
            subject not in SUBJECTS
            or not isinstance(value, str)
            or not value
            or not isinstance(rule, str)
            or isinstance(expires, bool)
            or not isinstance(expires, int)
        ):
            raise InvalidInput(msg("risk.hotlist_bad", detail=f"entry {i + 1}"))
        entries.append(HotEntry(str(subject), value, rule, expires))
    return HotList(entries, version)


def store_hotlist(conn: Connection, body: str, version: int, now: str) -> HotList:
    """Validate the server's hot list and keep it as the one in force."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise InvalidInput(msg("risk.hotlist_bad", detail="JSON")) from None
    if not isinstance(doc, dict):
        raise InvalidInput(msg("risk.hotlist_bad", detail="JSON"))
    hot = parse_hotlist(doc, version)
    text = canonical.dumps({"version": version, "entries": doc["entries"]}).decode()
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (SETTINGS_KEY, text, now),
    )
    return hot


def load_hotlist(conn: Connection) -> HotList:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (SETTINGS_KEY,)).fetchone()
    if row is None:
        return HotList()
    doc = json.loads(row[0])
    return parse_hotlist(doc, int(doc.get("version", 0)))
