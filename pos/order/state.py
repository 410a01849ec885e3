"""The order lifecycle as an explicit state machine.

    open --park--> parked --resume--> open
    open --tender covering the total--> paid
    open | parked --void--> voided          (a manager, once money was taken)
    paid --void (manager)--> voided
    paid | partly_refunded --refund (manager)--> partly_refunded | refunded

voided and refunded are final. Any other action raises NotAllowed saying what
was refused and what to do instead.
"""

from __future__ import annotations

from enum import StrEnum

from pos.errors import NotAllowed
from pos.messages import msg


class OrderState(StrEnum):
    OPEN = "open"
    PARKED = "parked"
    PAID = "paid"
    VOIDED = "voided"
    PARTLY_REFUNDED = "partly_refunded"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-")

    @property
    def final(self) -> bool:
        return self in (OrderState.VOIDED, OrderState.REFUNDED)


class Action(StrEnum):
    """What someone tries to do to an order; the value is the verb phrase
    that reads in 'cannot <value> a paid order'."""

    ADD_LINE = "add a line to"
    CHANGE_LINE = "change a line of"
    REMOVE_LINE = "remove a line from"
    DISCOUNT = "apply a discount to"
    TENDER = "take payment for"
    PARK = "park"
    RESUME = "resume"
    VOID = "void"
    REFUND = "refund"


_EDIT = frozenset({Action.ADD_LINE, Action.CHANGE_LINE, Action.REMOVE_LINE, Action.DISCOUNT})

ALLOWED: dict[OrderState, frozenset[Action]] = {
    OrderState.OPEN: _EDIT | {Action.TENDER, Action.PARK, Action.VOID},
    OrderState.PARKED: frozenset({Action.RESUME, Action.VOID}),
    OrderState.PAID: frozenset({Action.VOID, Action.REFUND}),
    OrderState.PARTLY_REFUNDED: frozenset({Action.REFUND}),
    OrderState.VOIDED: frozenset(),
    OrderState.REFUNDED: frozenset(),
}


def allowed(state: OrderState, action: Action) -> bool:
    return action in ALLOWED[state]


def check(state: OrderState, action: Action) -> None:
    """Raise NotAllowed, e.g. 'cannot add a line to a paid order', unless allowed."""
    if not allowed(state, action):
        raise NotAllowed(
            msg(
                f"order_rules.state.refused.{state.value}",
                action=msg(f"order_rules.action.{action.name.lower()}"),
            )
        )
