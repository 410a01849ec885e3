"""Products, people and orders the order tests share."""

from __future__ import annotations

from hypothesis import strategies as st

from pos.auth import Approval, Role
from pos.catalog import Product
from pos.money import Money
from pos.order import Discount, Order, Tender
from pos.tax import TaxTable

COLA = Product("DRK-001", ("6901234000016",), "可口可乐", "Cola", Money(350), "standard")
MILK = Product("DRK-005", ("6901234000054",), "纯牛奶", "Milk", Money(320), "reduced")
APPLES = Product(
    "FRT-001", ("2000101000006",), "苹果", "Apples", Money(1280), "reduced", sold_by_weight=True
)
GIFT = Product("GFT-100", ("6901234009002",), "礼品卡", "Gift card", Money(10000), "exempt")
SHAMPOO = Product("DLY-005", ("6901234003055",), "洗发露", "Shampoo", Money(2990), "standard")
RETIRED = Product("DLY-008", (), "打火机", "Lighter", Money(200), "standard", active=False)

MANAGER = Approval("m-1", Role.MANAGER, "regular customer")
CASHIER_SAYS_YES = Approval("c-1", Role.CASHIER)


def basket(inclusive: bool = True) -> Order:
    """Cola x3, 0.45 kg of apples, shampoo: 10.50 + 5.76 + 29.90 = 46.16."""
    order = Order.open("o-1", "c-1", tax_table=TaxTable(inclusive=inclusive))
    order = order.add_product(COLA, quantity=3)
    order = order.add_product(APPLES, grams=450)
    return order.add_product(SHAMPOO)


def paid_split(order: Order | None = None) -> Order:
    """`basket()` with a 10% order discount, paid 20.00 by card, the rest in cash with change."""
    order = (order or basket()).discount_order(Discount.percent(1000))
    order = order.add_tender(Tender("card", Money(2000), reference="auth-1"))
    return order.tender_cash(Money(5000))


PRODUCTS = [COLA, MILK, APPLES, GIFT, SHAMPOO]


@st.composite
def random_orders(draw: st.DrawFn) -> Order:
    """Random baskets with random discounts, in either tax mode; every
    discount carries a manager approval so none is refused for that."""
    order = Order.open("o-r", "c-1", tax_table=TaxTable(inclusive=draw(st.booleans())))
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        product = draw(st.sampled_from(PRODUCTS))
        if product.sold_by_weight:
            order = order.add_product(product, grams=draw(st.integers(1, 5000)))
        else:
            order = order.add_product(product, quantity=draw(st.integers(1, 20)))
        if draw(st.booleans()):
            line = order.lines[-1]
            order = order.discount_line(line.line_id, draw(discounts(line.gross.minor)))
    if draw(st.booleans()):
        base = order.totals()
        left = base.subtotal.minor - base.line_discounts.minor
        if left > 0:
            order = order.discount_order(draw(discounts(left)))
    return order


def discounts(base_minor: int) -> st.SearchStrategy[Discount]:
    percent = st.integers(1, 10_000).map(lambda bp: Discount.percent(bp, approval=MANAGER))
    if base_minor < 1:
        return percent
    amount = st.integers(1, base_minor).map(lambda m: Discount.amount(Money(m), approval=MANAGER))
    return st.one_of(percent, amount)
