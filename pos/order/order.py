"""The order aggregate. An `Order` is immutable: every change returns a new
order, so a refused change leaves nothing half done and the caller persists
exactly what it was given.

Typical use:

    order = Order.open("o-1", cashier_id="u-7")
    order = order.add_product(cola, quantity=2)
    order = order.add_scan(apples, parse_scan("2000101004998"))  # label: 4.99
    order = order.discount_order(Discount.percent(1000))
    order = order.add_tender(Tender("alipay", Money(500), reference="2088..."))
    order = order.tender_cash(Money(10000))   # -> paid, order.change = the change
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pos.auth import Approval, Role, require_approval
from pos.barcode import Scan, ScanKind
from pos.catalog import Product
from pos.errors import InvalidInput, NotAllowed, NotFound
from pos.messages import Name, msg
from pos.money import DEFAULT_CURRENCY, Money
from pos.order import fields
from pos.order.discounts import Discount, DiscountPolicy
from pos.order.lines import Line
from pos.order.state import Action, OrderState, check
from pos.order.tenders import CASH, Tender
from pos.order.totals import Totals, compute_totals
from pos.tax import TaxTable

if TYPE_CHECKING:
    from pos.order.refunds import Refund


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    cashier_id: str
    currency: str = DEFAULT_CURRENCY
    tax_table: TaxTable = field(default_factory=TaxTable)
    policy: DiscountPolicy = field(default_factory=DiscountPolicy)
    state: OrderState = OrderState.OPEN
    lines: tuple[Line, ...] = ()
    order_discount: Discount | None = None
    tenders: tuple[Tender, ...] = ()
    refunded_minor: int = 0
    void_approval: Approval | None = None
    void_reason: str = ""
    next_line: int = 1  # line ids are never reused, so journal entries stay unambiguous
    # Totals are asked for many times per change; an order never changes, so
    # they are worked out once. init=False: `replace` starts a new order without.
    _totals: Totals | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        order_id: str,
        cashier_id: str,
        *,
        currency: str = DEFAULT_CURRENCY,
        tax_table: TaxTable | None = None,
        policy: DiscountPolicy | None = None,
    ) -> Order:
        if not order_id or not cashier_id:
            raise InvalidInput(msg("order_rules.no_cashier"))
        Money.zero(currency)  # refuses an unsupported currency now, not at payment
        return cls(
            order_id, cashier_id, currency, tax_table or TaxTable(), policy or DiscountPolicy()
        )

    # -- reading ------------------------------------------------------------------
    def totals(self) -> Totals:
        if self._totals is None:
            totals = compute_totals(
                self.lines, self.order_discount, self.tax_table, self.policy, self.currency
            )
            object.__setattr__(self, "_totals", totals)
            return totals
        return self._totals

    @property
    def total(self) -> Money:
        return self.totals().total

    @property
    def paid(self) -> Money:
        """What the tenders pay toward the order (cash net of change)."""
        return Money(sum(t.amount.minor for t in self.tenders), self.currency)

    @property
    def remaining(self) -> Money:
        return self.total - self.paid

    @property
    def change(self) -> Money:
        return Money(sum(t.change.minor for t in self.tenders), self.currency)

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_minor, self.currency)

    def line(self, line_id: str) -> Line:
        for ln in self.lines:
            if ln.line_id == line_id:
                return ln
        raise NotFound(msg("order_rules.no_line", line=line_id))

    # -- lines ----------------------------------------------------------------------
    def _editable(self, action: Action) -> None:
        check(self.state, action)
        if self.tenders:
            raise NotAllowed(
                msg(
                    "order_rules.payment_started",
                    action=msg(f"order_rules.action.{action.name.lower()}"),
                )
            )

    def _with_lines(self, lines: tuple[Line, ...], **changes: Any) -> Order:
        updated = replace(self, lines=lines, **changes)
        updated.totals()  # re-checks every discount against the new lines
        return updated

    def _add(self, line_args: dict[str, Any], product: Product) -> Order:
        self._editable(Action.ADD_LINE)
        if not product.active:
            raise NotAllowed(msg("order_rules.not_for_sale", name=_name(product)))
        if product.unit_price.currency != self.currency:
            raise InvalidInput(
                msg(
                    "order_rules.price_currency",
                    name=_name(product),
                    currency=product.unit_price.currency,
                    order_currency=self.currency,
                )
            )
        self.tax_table.rate(product.tax_class)
        line = Line(
            line_id=f"L{self.next_line}",
            sku=product.sku,
            name_zh=product.name_zh,
            name_en=product.name_en,
            tax_class=product.tax_class,
            **line_args,
        )
        return self._with_lines((*self.lines, line), next_line=self.next_line + 1)

    def add_product(self, product: Product, quantity: int = 1, grams: int | None = None) -> Order:
        """A line for `quantity` units, or for `grams` of a product sold by weight."""
        if product.sold_by_weight and grams is None:
            raise InvalidInput(msg("order_rules.sold_by_weight", name=_name(product)))
        if not product.sold_by_weight and grams is not None:
            raise InvalidInput(msg("order_rules.sold_per_unit", name=_name(product)))
        return self._add(
            {"unit_price": product.unit_price, "quantity": quantity, "grams": grams}, product
        )

    def add_one_more(self, product: Product, quantity: int = 1) -> Order:
        """`quantity` more of a unit product: the same item scanned again is one
        line with a higher quantity (a discounted line is left as it was, and a
        weighed or label-priced item always makes its own line)."""
        if product.sold_by_weight:
            return self.add_product(product, quantity)
        for ln in reversed(self.lines):
            if (
                ln.sku == product.sku
                and not ln.weighed
                and not ln.label_price
                and ln.discount is None
                and ln.unit_price == product.unit_price
            ):
                return self.set_quantity(ln.line_id, ln.quantity + quantity)
        return self.add_product(product, quantity)

    def add_labelled(self, product: Product, price: Money) -> Order:
        """A line priced by a scale label's embedded price."""
        if price.currency != self.currency or price.minor <= 0:
            raise InvalidInput(msg("order_rules.label_price"))
        return self._add({"unit_price": price, "label_price": True}, product)

    def add_scan(self, product: Product, scan: Scan) -> Order:
        """A line from a scan already looked up to `product`."""
        if scan.kind is ScanKind.GTIN:
            return self.add_one_more(product)
        if scan.price_minor is not None:
            return self.add_labelled(product, Money(scan.price_minor, self.currency))
        return self.add_product(product, grams=scan.grams)

    def set_quantity(self, line_id: str, quantity: int) -> Order:
        self._editable(Action.CHANGE_LINE)
        line = self.line(line_id)
        if line.weighed or line.label_price:
            raise InvalidInput(msg("order_rules.line.fixed_quantity"))
        return self._with_lines(
            tuple(replace(ln, quantity=quantity) if ln is line else ln for ln in self.lines)
        )

    def remove_line(self, line_id: str) -> Order:
        self._editable(Action.REMOVE_LINE)
        line = self.line(line_id)
        return self._with_lines(tuple(ln for ln in self.lines if ln is not line))

    # -- discounts ------------------------------------------------------------------
    def discount_line(self, line_id: str, discount: Discount | None) -> Order:
        """Set (or with None, clear) a line's discount."""
        self._editable(Action.DISCOUNT)
        line = self.line(line_id)
        return self._with_lines(
            tuple(replace(ln, discount=discount) if ln is line else ln for ln in self.lines)
        )

    def discount_order(self, discount: Discount | None) -> Order:
        """Set (or with None, clear) the order discount."""
        self._editable(Action.DISCOUNT)
        return self._with_lines(self.lines, order_discount=discount)

    def _same_lines(self, **changes: Any) -> Order:
        """A change that leaves lines and discounts alone keeps the totals."""
        new = replace(self, **changes)
        object.__setattr__(new, "_totals", self._totals)
        return new

    # -- payment --------------------------------------------------------------------
    def _payable(self) -> Money:
        check(self.state, Action.TENDER)
        if not self.lines:
            raise NotAllowed(msg("order_rules.empty_payment"))
        remaining = self.remaining
        if remaining.minor <= 0:
            raise NotAllowed(msg("order_rules.nothing_due"))
        return remaining

    def add_tender(self, tender: Tender) -> Order:
        """Take a tender; the order is paid when the tenders cover the total."""
        remaining = self._payable()
        if tender.amount.currency != self.currency:
            raise InvalidInput(
                msg(
                    "order_rules.tender.currency",
                    currency=tender.amount.currency,
                    order_currency=self.currency,
                )
            )
        if tender.amount > remaining:
            raise NotAllowed(
                msg(
                    "order_rules.tender.too_much",
                    channel=tender.channel,
                    amount=tender.amount,
                    due=remaining,
                )
            )
        if tender.change and tender.amount != remaining:
            raise NotAllowed(msg("order_rules.tender.change_only_last"))
        taken = replace(tender, tender_id=f"T{len(self.tenders) + 1}")
        state = OrderState.PAID if tender.amount == remaining else self.state
        return self._same_lines(tenders=(*self.tenders, taken), state=state)

    def tender_cash(self, handed: Money, reference: str | None = None) -> Order:
        """Cash handed over: pays up to what remains; any excess is change."""
        remaining = self._payable()
        if handed.currency != self.currency or handed.minor <= 0:
            raise InvalidInput(msg("order_rules.tender.no_cash"))
        applied = min(handed, remaining)
        return self.add_tender(Tender(CASH, applied, tendered=handed, reference=reference))

    # -- lifecycle ------------------------------------------------------------------
    def park(self) -> Order:
        self._editable(Action.PARK)
        if not self.lines:
            raise NotAllowed(msg("order_rules.empty_park"))
        return self._same_lines(state=OrderState.PARKED)

    def resume(self) -> Order:
        check(self.state, Action.RESUME)
        return self._same_lines(state=OrderState.OPEN)

    def void(self, approval: Approval | None = None, reason: str = "") -> Order:
        """Void the order. Once money was taken (paid, or tenders on an open
        order) a manager must approve; every tender is then to be given back."""
        check(self.state, Action.VOID)
        if self.tenders:
            require_approval(approval, msg("users.action.void_paid_order", order_id=self.order_id))
        return self._same_lines(state=OrderState.VOIDED, void_approval=approval, void_reason=reason)

    def apply_refund(self, refund: Refund) -> Order:
        """Record a refund made from `plan_refund(...).approve(...)`."""
        check(self.state, Action.REFUND)
        if refund.order_id != self.order_id:
            raise InvalidInput(msg("order_rules.refund.other_order", refund=refund.refund_id))
        require_approval(refund.approval, msg("users.action.refund_order", order_id=self.order_id))
        if refund.amount.currency != self.currency:
            raise InvalidInput(msg("order_rules.refund.other_order", refund=refund.refund_id))
        refunded = self.refunded + refund.amount
        total = self.total
        if refunded > total:
            raise NotAllowed(msg("order_rules.refund.over_paid", refunded=refunded, paid=total))
        state = OrderState.REFUNDED if refunded == total else OrderState.PARTLY_REFUNDED
        return self._same_lines(refunded_minor=refunded.minor, state=state)

    # -- storage --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "cashier_id": self.cashier_id,
            "currency": self.currency,
            "tax_table": self.tax_table.to_dict(),
            "policy": self.policy.to_dict(),
            "state": self.state.value,
            "lines": [ln.to_dict() for ln in self.lines],
            "order_discount": None
            if self.order_discount is None
            else self.order_discount.to_dict(),
            "tenders": [t.to_dict() for t in self.tenders],
            "refunded_minor": self.refunded_minor,
            "void_approval": None if self.void_approval is None else self.void_approval.to_dict(),
            "void_reason": self.void_reason,
            "next_line": self.next_line,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Order:
        currency = fields.text(data, "currency")
        fields.money(data, "refunded_minor", currency)  # refuses an unknown currency
        state = fields.text(data, "state")
        if state not in {s.value for s in OrderState}:
            raise fields.bad(f"unknown state {state!r}")
        discount = fields.opt_record(data, "order_discount")
        void_approval = fields.opt_record(data, "void_approval")
        order = cls(
            order_id=fields.text(data, "order_id"),
            cashier_id=fields.text(data, "cashier_id"),
            currency=currency,
            tax_table=TaxTable.from_dict(
                fields.mapping(fields.field(data, "tax_table"), "tax_table")
            ),
            policy=DiscountPolicy.from_dict(fields.mapping(fields.field(data, "policy"), "policy")),
            state=OrderState(state),
            lines=tuple(Line.from_dict(d, currency) for d in fields.items(data, "lines")),
            order_discount=None if discount is None else Discount.from_dict(discount),
            tenders=tuple(Tender.from_dict(d, currency) for d in fields.items(data, "tenders")),
            refunded_minor=fields.integer(data, "refunded_minor"),
            void_approval=None if void_approval is None else Approval.from_dict(void_approval),
            void_reason=fields.text(data, "void_reason"),
            next_line=fields.integer(data, "next_line"),
        )
        order._verify()
        return order

    def _verify(self) -> None:
        """A stored order must be one this class could have produced."""
        try:
            total = self.total
        except NotAllowed as exc:
            raise fields.bad(exc.message) from None
        paid, refunded, state = self.paid, self.refunded, self.state
        settled = state in (OrderState.PAID, OrderState.PARTLY_REFUNDED, OrderState.REFUNDED)
        problems = [
            (paid > total, "tenders exceed the total"),
            (settled and paid != total, f"a {state.label} order is not fully paid"),
            (
                state in (OrderState.OPEN, OrderState.PARKED)
                and bool(self.lines)
                and paid >= total
                and bool(self.tenders),
                f"an {state.label} order is fully paid",
            ),
            (state is OrderState.PARKED and bool(self.tenders), "a parked order has tenders"),
            (refunded.minor < 0 or refunded > total, "refunded is out of range"),
            (state is OrderState.PAID and bool(refunded), "a paid order has refunds"),
            (state is OrderState.PARTLY_REFUNDED and not refunded.minor, "refunded is zero"),
            (state is OrderState.REFUNDED and refunded != total, "refunded is not the total"),
            (
                state is OrderState.VOIDED
                and bool(self.tenders)
                and not _is_manager(self.void_approval),
                "a paid order was voided without a manager",
            ),
            (
                state is not OrderState.VOIDED and self.void_approval is not None,
                "an order that is not voided has a void approval",
            ),
            (len({ln.line_id for ln in self.lines}) != len(self.lines), "line ids repeat"),
            (
                any(_line_no(ln.line_id) >= self.next_line for ln in self.lines),
                "next_line is behind",
            ),
            (
                [t.tender_id for t in self.tenders]
                != [f"T{i + 1}" for i in range(len(self.tenders))],
                "tender ids are out of sequence",
            ),
        ]
        for failed, what in problems:
            if failed:
                raise fields.bad(what)


def _name(product: Product) -> Name:
    return Name(product.name_zh, product.name_en)


def _is_manager(approval: Approval | None) -> bool:
    return approval is not None and approval.role is Role.MANAGER


def _line_no(line_id: str) -> int:
    digits = line_id[1:]
    return int(digits) if line_id.startswith("L") and digits.isascii() and digits.isdigit() else -1
