"""The kiosk speaks to the shopper, in the second person, with what to do
next. Payment and lookup messages are written for the cashier ("ask the
shopper to pay another way", "key the item in by name"); at the kiosk they
become the shopper's own words. Anything else is shown as it is."""

from __future__ import annotations

from pos.flows.text import Said
from pos.messages import Message, msg

# Codes with a shopper's version of their own.
_BY_CODE = {
    "payments.pos.cashier_cancelled": "screens.shopper.you_cancelled",
    "order.no_product_for_barcode": "screens.shopper.unknown_item",
}

# The cashier's instruction a message ends with -> the shopper's version.
_BY_ENDING = (
    ("try again in a moment, or ask the shopper to pay another way.", "screens.shopper.try_later"),
    ("refresh the payment code, then scan again.", "screens.shopper.refresh_code"),
    ("ask for another card or another way to pay.", "screens.shopper.another_card"),
    ("ask the shopper to pay another way.", "screens.shopper.pay_another_way"),
    ("ask for another way to pay", "screens.shopper.pay_another_way"),
)


def for_shopper(said: Said) -> Said:
    """The shopper's version of `said` (by its code, else by the cashier's
    instruction it ends with), or `said` itself."""
    if isinstance(said, Message) and said.code in _BY_CODE:
        return msg(_BY_CODE[said.code])
    low = said.render("en").lower()
    for ending, code in _BY_ENDING:
        if low.endswith(ending):
            return msg(code)
    return said
