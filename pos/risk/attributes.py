"""The names a rule may use, their types, and where their values come from.

Every attribute belongs to a group. The engine computes only the groups the
active rule set refers to, so a rule set that never asks about velocity pays
nothing for it. Money attributes are integer minor units of the sale's
currency (`amount > 2000_00` is 2,000.00 yuan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pos.risk.context import RiskContext

# Types the expression compiler checks against.
INT = "int"
MONEY = "money"
FLOAT = "float"
STR = "str"
BOOL = "bool"
STRSET = "strset"

NUMERIC = frozenset({INT, MONEY, FLOAT})

WINDOWS: tuple[tuple[str, int], ...] = (("10m", 600_000), ("1h", 3_600_000), ("24h", 86_400_000))
VELOCITY_SUBJECTS = ("card", "account", "terminal", "cashier")


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    type: str
    group: str
    doc: str


def _velocity_attributes() -> list[Attribute]:
    out: list[Attribute] = []
    for subject in VELOCITY_SUBJECTS:
        group = f"velocity.{subject}"
        for label, _ms in WINDOWS:
            out.append(
                Attribute(
                    f"{group}.count_{label}",
                    INT,
                    group,
                    f"approved sales of this {subject} in the last {label}",
                )
            )
            out.append(
                Attribute(
                    f"{group}.sum_{label}",
                    MONEY,
                    group,
                    f"amount of those sales (minor units) in the last {label}",
                )
            )
            out.append(
                Attribute(
                    f"{group}.declines_{label}",
                    INT,
                    group,
                    f"declined or blocked attempts of this {subject} in the last {label}",
                )
            )
    return out


_ALL: list[Attribute] = [
    Attribute("kind", STR, "ctx", '"sale" or "refund"'),
    Attribute("amount", MONEY, "ctx", "amount due, minor units"),
    Attribute("currency", STR, "ctx", "ISO 4217 code"),
    Attribute("channel", STR, "ctx", "cash, card, alipay, wechat, ..."),
    Attribute("mode", STR, "ctx", '"cashier" or "kiosk"'),
    Attribute("kiosk", BOOL, "ctx", "true at a self-service kiosk"),
    Attribute("online", BOOL, "ctx", "the terminal can reach the network"),
    Attribute("terminal.id", STR, "ctx", "this terminal"),
    Attribute("cashier.id", STR, "ctx", "signed-in cashier, empty at a kiosk"),
    Attribute("store.id", STR, "ctx", "the store"),
    Attribute("store.region", STR, "ctx", "the store's region or city"),
    Attribute("store.country", STR, "ctx", "the store's country, ISO 3166 alpha-2"),
    Attribute("time.hour", INT, "ctx", "local hour 0-23"),
    Attribute("time.weekday", INT, "ctx", "local day, 1 = Monday .. 7 = Sunday"),
    Attribute("basket.items", INT, "ctx", "number of items"),
    Attribute("basket.lines", INT, "ctx", "number of lines"),
    Attribute("basket.categories", STRSET, "ctx", "categories in the basket"),
    Attribute("basket.tax_classes", STRSET, "ctx", "tax classes in the basket"),
    Attribute("basket.gift_cards", INT, "ctx", "gift cards / stored-value items"),
    Attribute("basket.high_risk", INT, "ctx", "items of SKUs marked high-risk"),
    Attribute("refund.has_receipt", BOOL, "ctx", "refund: the original receipt was found"),
    Attribute("refund.no_receipt", BOOL, "ctx", "a refund without the original receipt"),
    Attribute("refund.same_cashier", BOOL, "ctx", "refund: same cashier as the sale"),
    Attribute("refund.sale_age_h", INT, "ctx", "refund: hours since the sale, -1 unknown"),
    Attribute("card.present", BOOL, "ctx", "a card token is known"),
    Attribute("card.token", STR, "ctx", "keyed hash of the card number"),
    Attribute("card.bin", STR, "ctx", "first 6-8 digits of the card number"),
    Attribute("account.present", BOOL, "ctx", "a payment-code account is known"),
    Attribute("account.id", STR, "ctx", "payment-code account (buyer id)"),
    Attribute("card.country", STR, "bin", "issuing country from the BIN table, '' unknown"),
    Attribute("card.brand", STR, "bin", "card brand from the BIN table, '' unknown"),
    Attribute("card.foreign", BOOL, "bin", "issuing country known and not the store's"),
    Attribute("card.blocked", BOOL, "lists", "card token on the block list"),
    Attribute("card.allowed", BOOL, "lists", "card token on the allow list"),
    Attribute("card.bin_blocked", BOOL, "lists", "BIN on the block list"),
    Attribute("card.bin_allowed", BOOL, "lists", "BIN on the allow list"),
    Attribute("account.blocked", BOOL, "lists", "payment-code account on the block list"),
    Attribute("account.allowed", BOOL, "lists", "payment-code account on the allow list"),
    *_velocity_attributes(),
    Attribute("history.amount_z", FLOAT, "history", "robust z of the amount, same hour of week"),
    Attribute("history.basket_z", FLOAT, "history", "robust z of the basket size"),
    Attribute("history.samples", INT, "history", "past sales in this hour of the week"),
    Attribute("history.score", INT, "history", "anomaly score 0-100"),
    Attribute("shift.voids", INT, "shift", "voids by this cashier this shift"),
    Attribute("shift.refunds", INT, "shift", "refunds by this cashier this shift"),
    Attribute("shift.refunds_no_receipt", INT, "shift", "refunds without receipt this shift"),
    Attribute("shift.no_sales", INT, "shift", "no-sale drawer opens this shift"),
    Attribute("hotlist.card", BOOL, "hotlist", "card token on the chain's hot list, unexpired"),
    Attribute("hotlist.card_rule", STR, "hotlist", "the server analysis that listed the card"),
    Attribute("hotlist.account", BOOL, "hotlist", "buyer id on the chain's hot list, unexpired"),
    Attribute("hotlist.account_rule", STR, "hotlist", "the server analysis that listed it"),
    Attribute("hotlist.cashier", BOOL, "hotlist", "cashier on the chain's hot list, unexpired"),
    Attribute("hotlist.cashier_rule", STR, "hotlist", "the server analysis that listed it"),
]

ATTRIBUTES: dict[str, Attribute] = {a.name: a for a in _ALL}


def base_features(ctx: RiskContext) -> dict[str, Any]:
    """The 'ctx' group: facts read straight off the context."""
    refund = ctx.refund
    is_refund = ctx.kind == "refund" and refund is not None
    age = -1
    if refund is not None and refund.sale_age is not None:
        age = int(refund.sale_age.total_seconds() // 3600)
    b = ctx.basket
    return {
        "kind": ctx.kind,
        "amount": ctx.amount.minor,
        "currency": ctx.amount.currency,
        "channel": ctx.channel,
        "mode": ctx.mode,
        "kiosk": ctx.mode == "kiosk",
        "online": ctx.online,
        "terminal.id": ctx.terminal_id,
        "cashier.id": ctx.cashier_id,
        "store.id": ctx.store_id,
        "store.region": ctx.store_region,
        "store.country": ctx.store_country,
        "time.hour": ctx.at.hour,
        "time.weekday": ctx.at.isoweekday(),
        "basket.items": b.items,
        "basket.lines": b.lines,
        "basket.categories": b.categories,
        "basket.tax_classes": b.tax_classes,
        "basket.gift_cards": b.gift_cards,
        "basket.high_risk": b.high_risk,
        "refund.has_receipt": bool(is_refund and refund is not None and refund.has_receipt),
        "refund.no_receipt": bool(is_refund and refund is not None and not refund.has_receipt),
        "refund.same_cashier": bool(is_refund and refund is not None and refund.same_cashier),
        "refund.sale_age_h": age,
        "card.present": bool(ctx.card_token),
        "card.token": ctx.card_token,
        "card.bin": ctx.card_bin,
        "account.present": bool(ctx.account),
        "account.id": ctx.account,
    }
