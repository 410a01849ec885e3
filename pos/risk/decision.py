"""The engine's answer: what to do, what the checkout must ask for first, and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pos.risk.context import RiskContext

ALLOW = "allow"
REVIEW = "review"
BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Reason:
    rule_id: str
    zh: str
    en: str
    code: str = ""  # the catalogue code the texts came from ("" for a rule's own texts)

    def text(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


@dataclass(frozen=True, slots=True)
class ShadowHit:
    """A shadow rule that matched: logged, never acted on."""

    rule_id: str
    action: str
    step_up: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """allow, review (with the step-ups to satisfy first) or block.

    `step_up` is the first step-up to ask for; `step_ups` lists every one the
    matching review rules ask for, highest priority first, and the checkout
    must satisfy all of them. `overridden` names review rules a
    higher-priority allow rule overrode. `score` is the history anomaly
    score 0-100. `features` are the attribute values the rules read.
    """

    action: str
    reasons: tuple[Reason, ...] = ()
    step_ups: tuple[str, ...] = ()
    score: int = 0
    shadow_hits: tuple[ShadowHit, ...] = ()
    overridden: tuple[str, ...] = ()
    ruleset_version: int = 0
    features: Mapping[str, Any] = field(default_factory=dict)

    @property
    def step_up(self) -> str | None:
        return self.step_ups[0] if self.step_ups else None

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.rule_id for r in self.reasons)

    def explain(self, locale: str = "en") -> list[str]:
        return [f"[{r.rule_id}] {r.text(locale)}" for r in self.reasons]

    def to_dict(self) -> dict[str, Any]:
        """The journal payload: canonical-JSON safe (no floats, sets or None keys)."""
        return {
            "action": self.action,
            "step_up": self.step_up,
            "step_ups": list(self.step_ups),
            "rule_ids": list(self.rule_ids),
            "reasons": [
                {"rule_id": r.rule_id, "code": r.code, "zh": r.zh, "en": r.en} for r in self.reasons
            ],
            "score": self.score,
            "shadow_hits": [
                {"rule_id": s.rule_id, "action": s.action, "step_up": s.step_up}
                for s in self.shadow_hits
            ],
            "overridden": list(self.overridden),
            "ruleset_version": self.ruleset_version,
            "features": {k: _plain(v) for k, v in sorted(self.features.items())},
        }


def journal_payload(decision: Decision, ctx: RiskContext, outcome: str) -> dict[str, Any]:
    """The 'risk.decision' journal entry: the decision's own fields at the top
    level (what the back office reads), plus what was decided about."""
    return {
        **decision.to_dict(),
        "outcome": outcome,
        "kind": ctx.kind,
        "amount_minor": ctx.amount.minor,
        "currency": ctx.currency,
        "channel": ctx.channel,
        "mode": ctx.mode,
        "online": ctx.online,
        "cashier_id": ctx.cashier_id,
        # What the central server's chain-wide analysis keys on (sync/server/risk):
        # the keyed card token (never the card number), the wallet buyer id.
        "store_id": ctx.store_id,
        "card_token": ctx.card_token,
        "account": ctx.account,
        "refund_no_receipt": ctx.refund is not None and not ctx.refund.has_receipt,
        # The whole context, so the server can backtest a new rule on it.
        "context": ctx.to_dict(),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        # Journal payloads are float-free; two decimals say all a z-score needs.
        return f"{value:.2f}"
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value
