"""The checkout's order: lines, discounts, tax, tenders, lifecycle, refunds.
Pure domain: no storage, no I/O, no clock. See each module for its rules."""

from __future__ import annotations

from pos.order.discounts import Discount, DiscountKind, DiscountPolicy
from pos.order.lines import MAX_GRAMS, MAX_QUANTITY, Line
from pos.order.order import Order
from pos.order.refunds import Refund, RefundLine, RefundPlan, RefundTender, plan_refund
from pos.order.state import Action, OrderState
from pos.order.tenders import CASH, Tender
from pos.order.totals import LineTotal, Totals

__all__ = [
    "CASH",
    "MAX_GRAMS",
    "MAX_QUANTITY",
    "Action",
    "Discount",
    "DiscountKind",
    "DiscountPolicy",
    "Line",
    "LineTotal",
    "Order",
    "OrderState",
    "Refund",
    "RefundLine",
    "RefundPlan",
    "RefundTender",
    "Tender",
    "Totals",
    "plan_refund",
]
