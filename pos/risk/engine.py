"""The risk engine: features for one payment, every rule evaluated, one decision."""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from pos import canonical
from pos.errors import InvalidInput
from pos.messages import msg
from pos.money import Money, minor_text
from pos.risk.attributes import ATTRIBUTES, FLOAT, MONEY, base_features
from pos.risk.bins import BinTable
from pos.risk.context import RiskContext
from pos.risk.decision import ALLOW, BLOCK, REVIEW, Decision, Reason, ShadowHit
from pos.risk.hotlist import SETTINGS_KEY as HOTLIST_KEY
from pos.risk.hotlist import HotList, load_hotlist
from pos.risk.lists import LISTS, SUBJECTS, ListBook
from pos.risk.repository import (
    OUTCOMES,
    Connection,
    EventRow,
    add_list_entry,
    insert_event,
    list_entries,
    remove_list_entry,
)
from pos.risk.rules import BIN_ENTRY_RE, PARAM_ATTRIBUTES, PLACEHOLDER_RE, Rule, RuleSet
from pos.risk.rulestore import active_ruleset, install_ruleset
from pos.risk.state import RiskState

CASHIER_ACTIONS = ("void", "no_sale")
_REVIEW_ON_ERROR = "manager_pin"


class _Plan:
    """What a rule set needs computed, worked out once per rule set."""

    def __init__(self, ruleset: RuleSet, *, narrow: bool = True) -> None:
        groups = ruleset.groups
        self.bin = "bin" in groups
        self.lists = "lists" in groups
        self.shift = "shift" in groups
        self.velocity = tuple(
            g.split(".", 1)[1] for g in sorted(groups) if g.startswith("velocity.")
        )
        self.hotlist = "hotlist" in groups
        self.rules = ruleset.rules
        self.program = ruleset.program
        # Every attribute a condition or a reason reads: a decision computes
        # only these of the velocity and list groups (None: all of them).
        self.reads = frozenset(n for r in ruleset.rules for n in r.names) if narrow else None


def _start_of_day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


class RiskEngine:
    """Thread-safe: decide() and record() may be called from worker threads."""

    def __init__(
        self,
        ruleset: RuleSet,
        state: RiskState,
        *,
        bins: BinTable,
        lists: ListBook | None = None,
        local_lists: Iterable[tuple[str, str, str]] = (),
        hotlist: HotList | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.hotlist = hotlist or HotList()
        # What rule sets and hot list were in the store when last read: record()
        # compares it (two indexed reads) and refreshes when the sync client
        # installed something since, so a running till needs no wiring.
        self._seen: tuple[object, ...] | None = None
        self.state = state
        self.bins = bins
        self._local = set(local_lists)
        self._ruleset = ruleset
        self._plan = _Plan(ruleset)
        self.lists = lists or ListBook.build(ruleset.lists, self._local)

    @classmethod
    def open(
        cls,
        conn: Connection,
        *,
        now: datetime,
        currency: str = "CNY",
        bins: BinTable | None = None,
    ) -> RiskEngine:
        """Load the rule set in force, list entries and state from the store."""
        active = active_ruleset(conn)
        state = RiskState.load(conn, currency, int(now.timestamp() * 1000))
        engine = cls(
            active.ruleset,
            state,
            bins=bins if bins is not None else BinTable.load(),
            local_lists=list_entries(conn),
            hotlist=load_hotlist(conn),
        )
        engine._seen = _config_marker(conn)
        return engine

    @property
    def ruleset(self) -> RuleSet:
        return self._ruleset

    def use_ruleset(self, ruleset: RuleSet) -> None:
        """Swap in a compiled rule set (after it was stored)."""
        with self._lock:
            self._ruleset = ruleset
            self._plan = _Plan(ruleset)
            self.lists = ListBook.build(ruleset.lists, self._local)

    def refresh(self, conn: Connection) -> RuleSet:
        """Pick up rule sets and list entries written by someone else (the sync
        client installing the server's rules) without rebuilding the state."""
        self._seen = _config_marker(conn)
        active = active_ruleset(conn)
        local = list_entries(conn)
        hot = load_hotlist(conn)
        with self._lock:
            self._local = set(local)
            self.hotlist = hot
        self.use_ruleset(active.ruleset)
        return active.ruleset

    def install(
        self, conn: Connection, toml_text: str, version: int, *, installed_at: str, origin: str
    ) -> RuleSet:
        """install_ruleset, then run the new set. On any error the current set stays.

        Call inside the caller's transaction; if that transaction rolls back,
        call use_ruleset(previous) or reopen the engine."""
        ruleset = install_ruleset(
            conn, toml_text, version, installed_at=installed_at, origin=origin
        )
        self.use_ruleset(ruleset)
        return ruleset

    # -- deciding --------------------------------------------------------------------
    def features(self, ctx: RiskContext, *, read_only: bool = False) -> dict[str, Any]:
        """The attributes for `ctx`: every one of the rule set's groups, or
        (`read_only`) what a decision computes, those its rules read."""
        with self._lock:
            plan = self._plan if read_only else _Plan(self._ruleset, narrow=False)
            return self._features(ctx, plan)[0]

    def _features(self, ctx: RiskContext, plan: _Plan) -> tuple[dict[str, Any], int]:
        reads = plan.reads
        f: dict[str, Any] = base_features(ctx)
        now_ms = ctx.at_ms()
        if plan.bin:
            info = self.bins.lookup(ctx.card_bin) if ctx.card_bin else self.bins.lookup("")
            f["card.country"] = info.country
            f["card.brand"] = info.brand
            f["card.foreign"] = bool(info.country) and info.country != ctx.store_country
        if plan.lists:
            self.lists.features(ctx.card_token, ctx.card_bin, ctx.account, f, reads)
        subjects = {
            "card": ctx.card_token,
            "account": ctx.account,
            "terminal": ctx.terminal_id,
            "cashier": ctx.cashier_id,
        }
        for kind in plan.velocity:
            self.state.velocity.features(kind, subjects[kind], ctx.currency, now_ms, f, reads)
        if plan.hotlist:
            self.hotlist.features(ctx.card_token, ctx.account, ctx.cashier_id, now_ms, f)
        if plan.shift:
            start = ctx.shift_start or _start_of_day(ctx.at)
            self.state.shift_features(ctx.cashier_id, start, now_ms, f)
        score = self.state.history.features(
            ctx.hour_of_week(), ctx.amount.minor, ctx.basket.items, f
        )
        return f, score

    def decide(self, ctx: RiskContext) -> Decision:
        """Evaluate every rule (all-matches) and combine them; see pos.risk for the order."""
        with self._lock:
            ruleset, plan = self._ruleset, self._plan
            f, score = self._features(ctx, plan)
        blocks: list[Rule] = []
        reviews: list[Rule] = []
        allows: list[Rule] = []
        shadow: list[ShadowHit] = []
        failed: list[Reason] = []
        results = plan.program.evaluate(f)
        rules = plan.rules
        # Most rules do not match: walk only those that did (or failed).
        for i in [i for i, hit in enumerate(results) if hit is not False]:
            rule, hit = rules[i], results[i]
            if isinstance(hit, Exception):  # a broken rule must not let the sale through
                if not rule.shadow:
                    failed.append(_failure_reason(rule, hit))
                continue
            if rule.shadow:
                shadow.append(ShadowHit(rule.id, rule.action, rule.step_up))
            elif rule.action == BLOCK:
                blocks.append(rule)
            elif rule.action == REVIEW:
                reviews.append(rule)
            else:
                allows.append(rule)
        return self._combine(ruleset, ctx, f, score, blocks, reviews, allows, shadow, failed)

    def _combine(
        self,
        ruleset: RuleSet,
        ctx: RiskContext,
        f: dict[str, Any],
        score: int,
        blocks: list[Rule],
        reviews: list[Rule],
        allows: list[Rule],
        shadow: list[ShadowHit],
        failed: list[Reason],
    ) -> Decision:
        overridden: tuple[str, ...] = ()
        step_ups: tuple[str, ...] = ()
        if blocks:
            action, acting = BLOCK, blocks
        elif allows and (not reviews or allows[0].priority > reviews[0].priority) and not failed:
            action, acting = ALLOW, allows
            overridden = tuple(r.id for r in reviews)
        elif reviews or failed:
            action, acting = REVIEW, reviews
            ordered = [r.step_up for r in reviews if r.step_up] + (
                [_REVIEW_ON_ERROR] if failed else []
            )
            step_ups = tuple(dict.fromkeys(ordered))
        else:
            action, acting = ALLOW, allows
        reasons = tuple(_reason(r, f, ctx.currency) for r in acting)
        if action == REVIEW:
            reasons += tuple(failed)
        read = {n for r in acting for n in r.names}
        return Decision(
            action=action,
            reasons=reasons,
            step_ups=step_ups,
            score=score,
            shadow_hits=tuple(shadow),
            overridden=overridden,
            ruleset_version=ruleset.version,
            features={n: f[n] for n in sorted(read)},
        )

    # -- recording -------------------------------------------------------------------
    def record(
        self,
        conn: Connection,
        ctx: RiskContext,
        outcome: str,
        decision: Decision | None = None,
    ) -> None:
        """Remember a payment attempt or refund, inside the caller's transaction.

        outcome: approved | declined | blocked | cancelled. Declined and blocked
        attempts feed the declines_* velocity; approved sales feed counts, sums
        and history. Should the transaction roll back, the in-memory counters
        over-count (the strict side) until the engine is reopened."""
        if outcome not in OUTCOMES:
            raise InvalidInput(
                msg("risk.unknown_outcome", outcome=repr(outcome), outcomes=", ".join(OUTCOMES))
            )
        ev = EventRow(
            at_ms=ctx.at_ms(),
            kind=ctx.kind,
            outcome=outcome,
            amount=ctx.amount.minor,
            currency=ctx.currency,
            terminal_id=ctx.terminal_id,
            cashier_id=ctx.cashier_id,
            card_token=ctx.card_token,
            account=ctx.account,
            hour_of_week=ctx.hour_of_week(),
            items=ctx.basket.items,
            no_receipt=ctx.refund is not None and not ctx.refund.has_receipt,
            channel=ctx.channel,
        )
        insert_event(
            conn,
            ev,
            ctx_json=canonical.dumps(ctx.to_dict()).decode(),
            action=None if decision is None else decision.action,
            rule_ids=",".join(decision.rule_ids) if decision is not None else "",
            ruleset_version=None if decision is None else decision.ruleset_version,
        )
        with self._lock:
            self.state.apply(ev)
        self._refresh_if_changed(conn)

    def _refresh_if_changed(self, conn: Connection) -> None:
        if self._seen is not None and _config_marker(conn) != self._seen:
            self.refresh(conn)

    def record_cashier_action(
        self,
        conn: Connection,
        *,
        action: str,
        cashier_id: str,
        terminal_id: str,
        at: datetime,
        amount: Money | None = None,
    ) -> None:
        """A void or a no-sale drawer open, counted per cashier per shift."""
        if action not in CASHIER_ACTIONS:
            raise InvalidInput(msg("risk.unknown_cashier_action", action=repr(action)))
        if at.tzinfo is None:
            raise InvalidInput(msg("risk.cashier_action_naive_time"))
        money = amount or Money.zero(self.state.currency)
        ev = EventRow(
            at_ms=int(at.timestamp() * 1000),
            kind=action,
            outcome="approved",
            amount=money.minor,
            currency=money.currency,
            terminal_id=terminal_id,
            cashier_id=cashier_id,
            hour_of_week=at.weekday() * 24 + at.hour,
        )
        insert_event(conn, ev)
        with self._lock:
            self.state.apply(ev)
        self._refresh_if_changed(conn)

    # -- local lists -----------------------------------------------------------------
    def add_list_entry(
        self, conn: Connection, lst: str, subject: str, value: str, *, note: str, by: str, at: str
    ) -> None:
        _check_list(lst, subject, value)
        add_list_entry(conn, lst, subject, value, note, by, at)
        with self._lock:
            self._local.add((lst, subject, value))
            self.lists.add(lst, subject, value)

    def remove_list_entry(self, conn: Connection, lst: str, subject: str, value: str) -> bool:
        _check_list(lst, subject, value)
        removed = remove_list_entry(conn, lst, subject, value)
        with self._lock:
            self._local.discard((lst, subject, value))
            self.lists = ListBook.build(self._ruleset.lists, self._local)
        return removed


def _config_marker(conn: Connection) -> tuple[object, ...]:
    """Changes whenever a rule set is installed or a hot list stored."""
    rules = conn.execute("SELECT max(version) FROM risk_rulesets").fetchone()
    hot = conn.execute(
        "SELECT updated_at, length(value), substr(value, -24) FROM settings WHERE key = ?",
        (HOTLIST_KEY,),
    ).fetchone()
    return (rules[0] if rules else None, tuple(hot) if hot else None)


def settle() -> None:
    """Call once after start-up (the engine opened): moves every object alive
    now, the engine's long-lived state among them, out of the cyclic garbage
    collector's reach, so a full collection triggered during a decision does
    not walk a million history rows (the p99 of a decision went from
    milliseconds to microseconds in tests/benchmarks/test_risk_bench.py)."""
    gc.collect()
    gc.freeze()


def _check_list(lst: str, subject: str, value: str) -> None:
    if lst not in LISTS or subject not in SUBJECTS:
        raise InvalidInput(
            msg(
                "risk.no_such_list",
                list=lst,
                subject=subject,
                lists="/".join(LISTS),
                subjects="/".join(SUBJECTS),
            )
        )
    if not value or (subject == "bin" and not BIN_ENTRY_RE.match(value)):
        raise InvalidInput(msg("risk.bad_list_value", value=repr(value), subject=subject))


def _show(name: str, value: Any, currency: str) -> str:
    typ = ATTRIBUTES[name].type
    if typ == MONEY:
        return minor_text(int(value), currency)
    if typ == FLOAT:
        return f"{value:.1f}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, frozenset | set):
        return ",".join(sorted(value))
    return str(value)


@lru_cache(maxsize=4096)
def _segments(text: str) -> tuple[tuple[str, str], ...]:
    """A reason text cut once into (literal, attribute name or "") pairs."""
    out: list[tuple[str, str]] = []
    at = 0
    for m in PLACEHOLDER_RE.finditer(text):
        out.append((text[at : m.start()], m.group(1)))
        at = m.end()
    out.append((text[at:], ""))
    return tuple(out)


def _fill(text: str, f: Mapping[str, Any], currency: str) -> str:
    if "{" not in text:
        return text
    return "".join(
        lit + (_show(name, f[name], currency) if name else "") for lit, name in _segments(text)
    )


def _param(name: str, value: Any, currency: str) -> Any:
    typ = ATTRIBUTES[name].type
    if typ == MONEY:
        return Money(int(value), currency)
    return _show(name, value, currency)


def _reason(rule: Rule, f: Mapping[str, Any], currency: str) -> Reason:
    if rule.reason_code:
        params = {
            p: _param(name, f[name], currency)
            for p, name in PARAM_ATTRIBUTES.items()
            if name in rule.placeholders
        }
        m = msg(rule.reason_code, **params)
        return Reason(rule.id, m.render("zh_CN"), m.render("en"), rule.reason_code)
    return Reason(rule.id, _fill(rule.reason_zh, f, currency), _fill(rule.reason_en, f, currency))


_ERR_ID = re.compile(r"\s+")


def _failure_reason(rule: Rule, exc: Exception) -> Reason:
    detail = _ERR_ID.sub(" ", f"{type(exc).__name__}: {exc}")[:120]
    m = msg("risk.rule_failed", rule=rule.id, detail=detail)
    return Reason(rule.id, m.render("zh_CN"), m.render("en"), "risk.rule_failed")
