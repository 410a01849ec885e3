"""Block and allow lists of card tokens, BINs and payment-code accounts.

Entries come from the rule set (what the central server ships) and from the
terminal's own table (risk_list_entries, a manager's local additions). A BIN
entry of 4 to 8 digits matches every card number starting with it.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

from pos.risk.rules import RuleLists

LISTS = ("block", "allow")
SUBJECTS = ("card", "bin", "account")
_FEATURES = (
    ("card.blocked", "block", "card"),
    ("card.allowed", "allow", "card"),
    ("card.bin_blocked", "block", "bin"),
    ("card.bin_allowed", "allow", "bin"),
    ("account.blocked", "block", "account"),
    ("account.allowed", "allow", "account"),
)


class ListBook:
    def __init__(self) -> None:
        self._sets: dict[tuple[str, str], set[str]] = {
            (lst, sub): set() for lst in LISTS for sub in SUBJECTS
        }

    @classmethod
    def build(cls, rule_lists: RuleLists, local: Iterable[tuple[str, str, str]]) -> ListBook:
        book = cls()
        book._sets["block", "card"] |= rule_lists.block_cards
        book._sets["allow", "card"] |= rule_lists.allow_cards
        book._sets["block", "bin"] |= rule_lists.block_bins
        book._sets["allow", "bin"] |= rule_lists.allow_bins
        book._sets["block", "account"] |= rule_lists.block_accounts
        book._sets["allow", "account"] |= rule_lists.allow_accounts
        for lst, sub, value in local:
            book.add(lst, sub, value)
        return book

    def add(self, lst: str, subject: str, value: str) -> None:
        self._sets[lst, subject].add(value)

    def discard(self, lst: str, subject: str, value: str) -> None:
        self._sets[lst, subject].discard(value)

    def has(self, lst: str, subject: str, value: str) -> bool:
        if not value:
            return False
        entries = self._sets[lst, subject]
        if subject != "bin":
            return value in entries
        return any(value[:n] in entries for n in range(4, min(8, len(value)) + 1))

    def features(
        self,
        card_token: str,
        card_bin: str,
        account: str,
        out: dict[str, object],
        reads: Container[str] | None = None,
    ) -> None:
        """Write the list attributes into `out`: all, or those in `reads`."""
        values = {"card": card_token, "bin": card_bin, "account": account}
        for name, lst, subject in _FEATURES:
            if reads is None or name in reads:
                out[name] = self.has(lst, subject, values[subject])

    def size(self) -> dict[str, int]:
        return {f"{lst}_{sub}": len(v) for (lst, sub), v in self._sets.items()}
