"""What the flows need from the core, as small Protocols. The checkout services
satisfy them; the flows never see a database, a gateway or a card reader.

Every method is blocking. The UI calls them on worker threads (one thread owns
the store; gateway, card and export calls run on an I/O pool); tests call them
directly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pos.flows.cancel import CancelToken
from pos.flows.text import Said
from pos.flows.views import (
    Approval,
    CashCount,
    ChannelInfo,
    LeftOpenView,
    OrderView,
    ParkedView,
    ProductHit,
    RiskDecision,
    Session,
    Table,
    TenderResult,
    ZView,
)
from pos.money import Money


class AuthPort(Protocol):
    def login(self, pin: str) -> Session:
        """The user whose PIN this is; NotAllowed when none matches."""
        ...

    def approve(self, pin: str, action: str, reason: str = "") -> Approval:
        """A manager's approval for `action`; NotAllowed for a cashier or a wrong PIN."""
        ...


class CatalogLookup(Protocol):
    def search(self, text: str, limit: int = 20) -> list[ProductHit]: ...


@dataclass(frozen=True, slots=True)
class Discount:
    """A line discount: percent in basis points, or an amount off."""

    basis_points: int | None = None
    amount: Money | None = None


class CheckoutPort(Protocol):
    def new_order(self, session: Session, mode: str) -> OrderView: ...

    def scan(self, order_id: str, code: str) -> OrderView:
        """Add what a barcode names (GTIN or in-store weighted label);
        InvalidInput for a bad code, NotFound for an unknown product."""
        ...

    def add_item(self, order_id: str, sku: str, quantity: int = 1) -> OrderView: ...

    def set_quantity(self, order_id: str, line_id: str, quantity: int) -> OrderView: ...

    def discount_line(
        self, order_id: str, line_id: str, discount: Discount, approval: Approval | None
    ) -> OrderView:
        """NotAllowed (with the threshold in the message) when the discount
        needs a manager and `approval` is None."""
        ...

    def void_line(self, order_id: str, line_id: str) -> OrderView: ...

    def park(self, order_id: str) -> None: ...

    def parked(self) -> list[ParkedView]: ...

    def resume(self, order_id: str) -> OrderView: ...

    def open_orders(self) -> list[LeftOpenView]:
        """Sales still open, oldest first: the till offers them back at login."""
        ...

    def void_order(
        self, order_id: str, approval: Approval | None, reason: str = ""
    ) -> OrderView: ...

    def get(self, order_id: str) -> OrderView: ...

    def find_receipt(self, receipt_no: str) -> OrderView:
        """A paid order by its receipt number (or order id); NotFound otherwise."""
        ...

    def receipt_text(self, order_id: str, width: int = 42) -> str: ...


class PaymentEvents(Protocol):
    """What a running payment tells the person at the terminal. Called from the
    worker thread the payment runs on."""

    def qr(self, payload: str, expires_in_s: int) -> None: ...

    def status(self, text: Said) -> None: ...

    def card_prompt(self, kind: str, options: Sequence[str] = ()) -> int:
        """insert | choose_app | processing | remove; for choose_app, the index
        of the application the person chose (blocks until they do)."""
        ...


@dataclass(frozen=True, slots=True)
class TenderRequest:
    order_id: str
    channel: str
    mode: str  # qr | payment_code | card | cash
    amount: Money
    tendered: Money | None = None  # cash handed over
    auth_code: str = ""  # the shopper's payment code
    approval: Approval | None = None  # risk step-up: a manager's PIN
    id_checked: bool = False  # risk step-up: the shopper's ID was checked


class PaymentPort(Protocol):
    def channels(self, mode: str) -> list[ChannelInfo]:
        """The tenders offered in `mode` (cashier | kiosk), with why one is not."""
        ...

    def risk(self, request: TenderRequest) -> RiskDecision: ...

    def pay(
        self, request: TenderRequest, events: PaymentEvents, cancel: CancelToken
    ) -> TenderResult:
        """Run the tender to a final status. Cancel stops it at the gateway
        (cancel/close/reverse) or the card reader; a result that cannot be known
        comes back UNKNOWN, never guessed."""
        ...

    def resolve(self, order_id: str, cancel: CancelToken) -> TenderResult:
        """Settle a payment left UNKNOWN on this order: query, then cancel or
        reverse when it cannot be confirmed."""
        ...


class AttendantLamp(Protocol):
    """The kiosk's tower lamp (drivers.tower_lamp): lit while an attendant is
    called, off when one has come."""

    def call(self, reason: str) -> None: ...

    def clear(self) -> None: ...


@runtime_checkable
class AttendantPort(Protocol):
    def call_attendant(self, reason: str, order_id: str = "") -> None:
        """Call the attendant for real: journalled (it reaches the server's
        alerts with the next sync), the tower lamp lit."""
        ...

    def attendant_came(self) -> None: ...

    def money_uncertain(self, order_id: str) -> bool:
        """An attempt on this order is still being checked in the background."""
        ...


@runtime_checkable
class NetworkState(Protocol):
    def network_up(self) -> bool:
        """Whether the till is online (the sync link, and at least one payment
        platform answering); the screens show it next to the tenders, which
        say themselves why one is greyed."""
        ...


@runtime_checkable
class BackgroundChecks(Protocol):
    def checking(self, order_id: str) -> list[Said]:
        """This order's attempts the till let go of and still checks in the
        background, worded for the cashier (channel and amount)."""
        ...


@dataclass(frozen=True, slots=True)
class RefundRequest:
    order_id: str
    line_ids: tuple[str, ...] = ()  # whole lines back
    amount: Money | None = None
    reason: str = ""
    # Some units of a line back: (line id, units); with line_ids, these win.
    quantities: tuple[tuple[str, int], ...] = ()
    cashier_id: str = ""  # who gives the money back; the approving manager when ""
    has_receipt: bool = True


class RefundPort(Protocol):
    def refundable(self, order_id: str) -> Money:
        """What may still go back to the shopper on this order."""
        ...

    def refund(
        self, request: RefundRequest, approval: Approval, cancel: CancelToken
    ) -> TenderResult:
        """Refund to the original tenders; SUCCEEDED only when every tender's
        money went back."""
        ...


class Progress(Protocol):
    def __call__(self, done: int, total: int) -> None: ...


class DayClosePort(Protocol):
    def business_date(self) -> str: ...

    def expected_cash(self, business_date: str) -> Money: ...

    def denominations(self, currency: str) -> list[int]:
        """Notes and coins of the currency, largest first, in minor units."""
        ...

    def close_day(
        self, business_date: str, counted: CashCount, reason: str, approval: Approval
    ) -> dict[str, Any]:
        """Close the day; returns the Z report (as its to_dict())."""
        ...

    def export(
        self,
        business_date: str,
        fmt: str,
        out: Path,
        progress: Progress,
        cancel: CancelToken,
    ) -> Path: ...


class ReviewPort(Protocol):
    """What the manager screens show besides the day close."""

    def z_view(self, business_date: str) -> ZView: ...

    def refunds_and_voids(self, business_date: str) -> Table: ...

    def offline_card_queue(self) -> Table: ...

    def risk_decisions(self, business_date: str) -> Table: ...

    def released_attempts(self, business_date: str) -> Table: ...

    def sync_status(self) -> Table: ...

    def settings(self) -> Table: ...
