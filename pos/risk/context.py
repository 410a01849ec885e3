"""What the checkout tells the risk engine about one sale or refund."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pos.errors import InvalidInput
from pos.messages import msg
from pos.money import Money, MoneyError

KINDS = ("sale", "refund")
MODES = ("cashier", "kiosk")
_BIN_RE = re.compile(r"^[0-9]{6,8}$")  # ASCII digits only: \d takes any script


@dataclass(frozen=True, slots=True)
class BasketFacts:
    """The basket as risk sees it: sizes and the kinds of goods, not the goods."""

    items: int = 0
    lines: int = 0
    categories: frozenset[str] = frozenset()
    tax_classes: frozenset[str] = frozenset()
    gift_cards: int = 0
    high_risk: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "lines": self.lines,
            "categories": sorted(self.categories),
            "tax_classes": sorted(self.tax_classes),
            "gift_cards": self.gift_cards,
            "high_risk": self.high_risk,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BasketFacts:
        return cls(
            items=int(d.get("items", 0)),
            lines=int(d.get("lines", 0)),
            categories=frozenset(d.get("categories", ())),
            tax_classes=frozenset(d.get("tax_classes", ())),
            gift_cards=int(d.get("gift_cards", 0)),
            high_risk=int(d.get("high_risk", 0)),
        )


@dataclass(frozen=True, slots=True)
class RefundFacts:
    """What is known about the sale a refund gives money back for."""

    has_receipt: bool
    same_cashier: bool = False
    sale_age: timedelta | None = None

    def to_dict(self) -> dict[str, Any]:
        age = None if self.sale_age is None else int(self.sale_age.total_seconds())
        return {
            "has_receipt": self.has_receipt,
            "same_cashier": self.same_cashier,
            "sale_age_s": age,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RefundFacts:
        age = d.get("sale_age_s")
        return cls(
            has_receipt=bool(d["has_receipt"]),
            same_cashier=bool(d.get("same_cashier", False)),
            sale_age=None if age is None else timedelta(seconds=int(age)),
        )


@dataclass(frozen=True, slots=True)
class RiskContext:
    """One payment (or refund) about to be taken.

    `at` is timezone-aware in the store's local zone: hour-of-day and weekday
    rules read it as it is; velocity windows use the instant it denotes.
    Unknown facts stay empty ("" / None), never guessed.
    """

    amount: Money
    channel: str
    mode: str
    online: bool
    at: datetime
    terminal_id: str
    kind: str = "sale"
    cashier_id: str = ""
    store_id: str = ""
    store_region: str = ""
    store_country: str = "CN"
    card_token: str = ""
    card_bin: str = ""
    account: str = ""
    basket: BasketFacts = field(default_factory=BasketFacts)
    refund: RefundFacts | None = None
    shift_start: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(
                msg("risk.context.unknown_kind", kind=repr(self.kind), kinds=", ".join(KINDS))
            )
        if self.mode not in MODES:
            raise InvalidInput(
                msg("risk.context.unknown_mode", mode=repr(self.mode), modes=", ".join(MODES))
            )
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidInput(msg("risk.context.naive_time"))
        if self.amount.minor < 0:
            raise InvalidInput(msg("risk.context.negative_amount"))
        if not self.channel:
            raise InvalidInput(msg("risk.context.no_channel"))
        if self.card_bin and not _BIN_RE.match(self.card_bin):
            raise InvalidInput(msg("risk.context.bad_bin", bin=repr(self.card_bin)))
        if self.kind == "refund" and self.refund is None:
            raise InvalidInput(msg("risk.context.no_refund_facts"))
        if self.basket.items < 0 or self.basket.lines < 0:
            raise InvalidInput(msg("risk.context.negative_basket"))

    @property
    def currency(self) -> str:
        return self.amount.currency

    def at_ms(self) -> int:
        """The instant as integer milliseconds since the epoch (velocity keys)."""
        return int(self.at.timestamp() * 1000)

    def hour_of_week(self) -> int:
        """0 = Monday 00:00-00:59 local, 167 = Sunday 23:00-23:59."""
        return self.at.weekday() * 24 + self.at.hour

    def to_dict(self) -> dict[str, Any]:
        return {
            "amount_minor": self.amount.minor,
            "currency": self.amount.currency,
            "channel": self.channel,
            "mode": self.mode,
            "online": self.online,
            "at": self.at.isoformat(),
            "terminal_id": self.terminal_id,
            "kind": self.kind,
            "cashier_id": self.cashier_id,
            "store_id": self.store_id,
            "store_region": self.store_region,
            "store_country": self.store_country,
            "card_token": self.card_token,
            "card_bin": self.card_bin,
            "account": self.account,
            "basket": self.basket.to_dict(),
            "refund": None if self.refund is None else self.refund.to_dict(),
            "shift_start": None if self.shift_start is None else self.shift_start.isoformat(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RiskContext:
        """Rebuild a recorded context; a damaged record is an InvalidInput."""
        try:
            refund = d.get("refund")
            shift = d.get("shift_start")
            return cls(
                amount=Money(int(d["amount_minor"]), str(d["currency"])),
                channel=str(d["channel"]),
                mode=str(d["mode"]),
                online=bool(d["online"]),
                at=datetime.fromisoformat(str(d["at"])),
                terminal_id=str(d["terminal_id"]),
                kind=str(d.get("kind", "sale")),
                cashier_id=str(d.get("cashier_id", "")),
                store_id=str(d.get("store_id", "")),
                store_region=str(d.get("store_region", "")),
                store_country=str(d.get("store_country", "CN")),
                card_token=str(d.get("card_token", "")),
                card_bin=str(d.get("card_bin", "")),
                account=str(d.get("account", "")),
                basket=BasketFacts.from_dict(d.get("basket") or {}),
                refund=None if refund is None else RefundFacts.from_dict(refund),
                shift_start=None if shift is None else datetime.fromisoformat(str(shift)),
            )
        except (KeyError, TypeError, ValueError, MoneyError) as exc:
            raise InvalidInput(msg("risk.context.damaged", detail=str(exc))) from exc
