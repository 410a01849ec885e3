"""Refunds against a paid order.

`plan_refund(order, prior_refunds, lines=... | amount=...)` works out what a
refund gives back and to which tenders; a manager's approval turns the plan
into a `Refund`, and `Order.apply_refund` records it on the order.

Rules:
- A refund references its order and never exceeds, with the refunds before
  it, the order's total, nor any tender's amount (cash counts net of change).
- Refunding lines gives back their totals including tax and their share of
  the order discount. Units of a line are refunded cumulatively: after k of
  n units, exactly round(total x k / n) has gone back, so refunding every
  unit, in any steps, returns the line total to the fen. Weighed and
  labelled lines are one unit.
- An amount refund is spread over the tax rates in proportion to what each
  rate still has to give back.
- Tax given back per rate is cumulative in the same way against the rate's
  tax on the sale, so a full refund returns the sale's tax exactly.
- Money goes back to non-cash tenders first (to the account it came from,
  latest tender first), then to cash.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pos.auth import Approval, require_approval
from pos.errors import InvalidInput, NotAllowed
from pos.messages import Name, msg
from pos.money import Money, div_half_up
from pos.order import fields
from pos.order.order import Order
from pos.order.state import Action, check
from pos.order.tenders import CASH
from pos.tax import RateTax


@dataclass(frozen=True, slots=True)
class RefundLine:
    line_id: str
    quantity: int
    amount: Money


@dataclass(frozen=True, slots=True)
class RefundTender:
    """Money going back through one of the order's tenders."""

    tender_id: str
    channel: str
    amount: Money
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class RefundPlan:
    order_id: str
    amount: Money
    lines: tuple[RefundLine, ...]
    tenders: tuple[RefundTender, ...]
    tax_by_rate: tuple[RateTax, ...]

    def __post_init__(self) -> None:
        # Plans are built consistent; this catches a damaged stored refund.
        minor = self.amount.minor
        problems = [
            (minor <= 0, "the amount must be above zero"),
            (sum(t.amount.minor for t in self.tenders) != minor, "tenders do not add up"),
            (any(t.amount.minor <= 0 for t in self.tenders), "a tender amount is not positive"),
            (
                bool(self.lines) and sum(ln.amount.minor for ln in self.lines) != minor,
                "lines do not add up",
            ),
            (any(ln.quantity < 1 or ln.amount.minor < 0 for ln in self.lines), "a bad line"),
            (sum(g.gross.minor for g in self.tax_by_rate) != minor, "tax rates do not add up"),
            (any(g.net + g.tax != g.gross for g in self.tax_by_rate), "a rate does not add up"),
        ]
        for failed, what in problems:
            if failed:
                raise InvalidInput(msg("order_rules.refund.inconsistent", detail=what))

    @property
    def tax(self) -> Money:
        return Money(sum(g.tax.minor for g in self.tax_by_rate), self.amount.currency)

    def approve(self, approval: Approval | None, refund_id: str, reason: str = "") -> Refund:
        """The refund, once a manager approves it."""
        require_approval(
            approval,
            msg("users.action.refund_amount", amount=self.amount, order_id=self.order_id),
        )
        assert approval is not None  # require_approval raised otherwise
        if not refund_id:
            raise InvalidInput(msg("order_rules.refund.no_id"))
        return Refund(refund_id, self, approval, reason)


@dataclass(frozen=True, slots=True)
class Refund:
    refund_id: str
    plan: RefundPlan
    approval: Approval
    reason: str = ""

    @property
    def order_id(self) -> str:
        return self.plan.order_id

    @property
    def amount(self) -> Money:
        return self.plan.amount

    @property
    def lines(self) -> tuple[RefundLine, ...]:
        return self.plan.lines

    @property
    def tenders(self) -> tuple[RefundTender, ...]:
        return self.plan.tenders

    @property
    def tax_by_rate(self) -> tuple[RateTax, ...]:
        return self.plan.tax_by_rate

    def to_dict(self) -> dict[str, Any]:
        p = self.plan
        return {
            "refund_id": self.refund_id,
            "order_id": p.order_id,
            "currency": p.amount.currency,
            "amount_minor": p.amount.minor,
            "lines": [
                {"line_id": ln.line_id, "quantity": ln.quantity, "amount_minor": ln.amount.minor}
                for ln in p.lines
            ],
            "tenders": [
                {
                    "tender_id": t.tender_id,
                    "channel": t.channel,
                    "amount_minor": t.amount.minor,
                    "reference": t.reference,
                }
                for t in p.tenders
            ],
            "tax_by_rate": [g.to_dict() for g in p.tax_by_rate],
            "approval": self.approval.to_dict(),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Refund:
        cur = fields.text(data, "currency")
        plan = RefundPlan(
            order_id=fields.text(data, "order_id"),
            amount=fields.money(data, "amount_minor", cur),
            lines=tuple(
                RefundLine(
                    fields.text(d, "line_id"),
                    fields.integer(d, "quantity"),
                    fields.money(d, "amount_minor", cur),
                )
                for d in fields.items(data, "lines")
            ),
            tenders=tuple(
                RefundTender(
                    fields.text(d, "tender_id"),
                    fields.text(d, "channel"),
                    fields.money(d, "amount_minor", cur),
                    fields.opt_text(d, "reference"),
                )
                for d in fields.items(data, "tenders")
            ),
            tax_by_rate=tuple(
                RateTax(
                    fields.integer(d, "rate_bp"),
                    fields.money(d, "net_minor", cur),
                    fields.money(d, "tax_minor", cur),
                    fields.money(d, "gross_minor", cur),
                )
                for d in fields.items(data, "tax_by_rate")
            ),
        )
        approval = Approval.from_dict(fields.mapping(fields.field(data, "approval"), "approval"))
        return cls(fields.text(data, "refund_id"), plan, approval, fields.text(data, "reason"))


def _share(whole: Money, part: int, of: int) -> Money:
    """round(whole x part / of): the cumulative share after `part` of `of`."""
    return Money(div_half_up(whole.minor * part, of), whole.currency) if of else whole


def _check_priors(order: Order, priors: Sequence[Refund]) -> None:
    for r in priors:
        if r.order_id != order.order_id:
            raise InvalidInput(
                msg("order_rules.refund.inconsistent", detail=f"{r.refund_id} / {r.order_id}")
            )
    refunded = Money(sum(r.amount.minor for r in priors), order.currency)
    if refunded != order.refunded:
        raise InvalidInput(
            msg(
                "order_rules.refund.inconsistent",
                detail=f"{refunded.amount_text()} != {order.refunded.amount_text()}",
            )
        )


def _line_refunds(
    order: Order, priors: Sequence[Refund], wanted: Mapping[str, int]
) -> list[RefundLine]:
    totals = order.totals()
    done: dict[str, int] = defaultdict(int)
    for r in priors:
        for rl in r.lines:
            done[rl.line_id] += rl.quantity
    out = []
    for line_id, quantity in wanted.items():
        line = order.line(line_id)
        units = line.refund_units
        if type(quantity) is not int or quantity < 1:
            raise InvalidInput(
                msg("order_rules.refund.quantity", name=Name(line.name_zh, line.name_en))
            )
        if done[line_id] + quantity > units:
            raise NotAllowed(
                msg(
                    "order_rules.refund.units_left",
                    name=Name(line.name_zh, line.name_en),
                    left=units - done[line_id],
                    units=units,
                    asked=quantity,
                )
            )
        line_total = totals.line(line_id).total
        amount = _share(line_total, done[line_id] + quantity, units) - _share(
            line_total, done[line_id], units
        )
        out.append(RefundLine(line_id, quantity, amount))
    return out


def _rates(
    order: Order, priors: Sequence[Refund], lines: Sequence[RefundLine], amount: Money
) -> tuple[RateTax, ...]:
    totals = order.totals()
    groups = {g.rate_bp: g for g in totals.tax_by_rate}
    before: dict[int, int] = defaultdict(int)
    for r in priors:
        for g in r.plan.tax_by_rate:
            before[g.rate_bp] += g.gross.minor
    now: dict[int, int] = defaultdict(int)
    if lines:
        for rl in lines:
            now[totals.line(rl.line_id).rate_bp] += rl.amount.minor
    else:
        rates = list(groups)
        unrefunded = [groups[rate].gross.minor - before[rate] for rate in rates]
        for rate, part in zip(rates, amount.allocate(unrefunded), strict=True):
            now[rate] = part.minor
    out = []
    for rate, g in groups.items():
        gross = now[rate]
        if gross == 0:
            continue
        if before[rate] + gross > g.gross.minor:
            left = g.gross - Money(before[rate], order.currency)
            raise NotAllowed(msg("order_rules.refund.rate_left", rate=f"{rate / 100:g}", left=left))
        tax = _share(g.tax, before[rate] + gross, g.gross.minor) - _share(
            g.tax, before[rate], g.gross.minor
        )
        part = Money(gross, order.currency)
        out.append(RateTax(rate, part - tax, tax, part))
    return tuple(out)


def _tenders(order: Order, priors: Sequence[Refund], amount: Money) -> tuple[RefundTender, ...]:
    given: dict[str, int] = defaultdict(int)
    for r in priors:
        for rt in r.tenders:
            given[rt.tender_id] += rt.amount.minor
    ordered = [t for t in reversed(order.tenders) if t.channel != CASH] + [
        t for t in reversed(order.tenders) if t.channel == CASH
    ]
    out = []
    due = amount.minor
    for t in ordered:
        take = min(due, t.amount.minor - given[t.tender_id])
        if take > 0:
            out.append(
                RefundTender(t.tender_id, t.channel, Money(take, order.currency), t.reference)
            )
            due -= take
    if due:
        raise NotAllowed(msg("order_rules.refund.tenders_short"))
    return tuple(out)


def plan_refund(
    order: Order,
    prior_refunds: Sequence[Refund],
    *,
    lines: Mapping[str, int] | None = None,
    amount: Money | None = None,
) -> RefundPlan:
    """What refunding `lines` ({line_id: units}) or a plain `amount` gives back,
    and through which tenders. `prior_refunds` are the order's refunds so far."""
    check(order.state, Action.REFUND)
    _check_priors(order, prior_refunds)
    if (lines is None) == (amount is None):
        raise InvalidInput(msg("order_rules.refund.lines_or_amount"))
    left = order.total - order.refunded
    if lines is not None:
        if not lines:
            raise InvalidInput(msg("order_rules.refund.no_lines"))
        refund_lines = _line_refunds(order, prior_refunds, lines)
        value = Money(sum(rl.amount.minor for rl in refund_lines), order.currency)
    else:
        assert amount is not None
        if amount.currency != order.currency or amount.minor <= 0:
            raise InvalidInput(msg("order_rules.refund.not_positive"))
        refund_lines, value = [], amount
    if value > left:
        raise NotAllowed(msg("order_rules.refund.too_much", amount=value, left=left))
    if value.minor == 0:
        raise NotAllowed(msg("order_rules.refund.nothing_left"))
    return RefundPlan(
        order_id=order.order_id,
        amount=value,
        lines=tuple(refund_lines),
        tenders=_tenders(order, prior_refunds, value),
        tax_by_rate=_rates(order, prior_refunds, refund_lines, value),
    )
