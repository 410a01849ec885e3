"""Limits on what a person types at the till, checked before the order changes:
counts are ASCII digits, counted cash is never negative, and a cash tender far
above the amount due is confirmed (a typo of ¥100,000 on a ¥5 sale would hand
out ¥99,995 in change)."""

from __future__ import annotations

from collections.abc import Iterable

from pos.digits import is_digits
from pos.errors import InvalidInput, NotAllowed
from pos.messages import Message, msg
from pos.money import Money, exponent

# Change of this many major units or more is more than one banknote: ask first.
CONFIRM_CHANGE_MAJOR = 100


def ascii_count(text: str, what: str | Message) -> int:
    """A quantity or a weight in grams typed as ASCII digits ('１２', '٣' refused)."""
    if not is_digits(text) or len(text) > 9:
        raise InvalidInput(msg("input.not_ascii_count", what=what, text=text[:20]))
    return int(text)


def not_negative(amount: Money, what: str | Message) -> Money:
    """Counted cash, an opening float: zero or more."""
    if amount.minor < 0:
        raise InvalidInput(msg("input.negative_amount", what=what, amount=amount))
    return amount


def check_cash_tendered(tendered: Money, due: Money, confirmed: bool) -> None:
    """Refuse a cash tender whose change would be a banknote or more, unless
    the cashier confirmed that amount."""
    change = tendered - due
    if confirmed or change.minor < CONFIRM_CHANGE_MAJOR * 10 ** exponent(due.currency):
        return
    raise NotAllowed(msg("input.confirm_cash", tendered=tendered, due=due, change=change))


def check_cash_pays(pays: Iterable[tuple[str, Money | None]], due: Money, confirmed: bool) -> None:
    """Before a sale's tenders are taken: nothing to pay is refused (a 100 %
    discount; the caller voids the cart), and `check_cash_tendered` for each
    ('cash', amount)."""
    if due.minor <= 0:
        raise InvalidInput(msg("input.nothing_to_pay", due=due))
    for channel, amount in pays:
        if channel == "cash" and amount is not None:
            check_cash_tendered(amount, due, confirmed)
