"""Risk decision latency: 50 CEL rules with velocity features over 1,000,000
history rows, against a hand-written Python function implementing the same 50
rules on the same features in the same run.

Both the engine and the hand-written function compute the same features
(velocity, history, lists, BIN) from the same in-memory state; what differs
is how the rules are expressed: CEL conditions compiled into one program
(cel-expr-python, CEL C++) vs. Python code. Every decision of the engine must
equal the hand-written one. The figure of the former home-made compiler,
measured before it was removed, is in docs/risk.md.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pos.money import Money
from pos.risk import (
    BasketFacts,
    RefundFacts,
    RiskContext,
    RiskEngine,
    install_ruleset,
)
from pos.risk.engine import settle
from pos.store.db import Database

ROWS = int(os.environ.get("RISK_BENCH_ROWS", "1000000"))
DECISIONS = int(os.environ.get("RISK_BENCH_DECISIONS", "20000"))
ROUNDS = 5
TZ = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
CARDS = 50_000
HOT_CARDS = 50  # cards that pay often, so velocity windows are not empty

# Ten families of rules (49) and a list rule: (id prefix, action, step_up, condition template, thresholds).
FAMILIES: list[tuple[str, str, str | None, str, list[tuple[Any, ...]]]] = [
    ("card-10m", "review", "manager_pin",
     "card.present && velocity.card.count_10m >= {0} && amount > {1}",
     [(2, 0), (3, 5000), (4, 10000), (5, 20000), (6, 50000)]),
    ("card-24h-sum", "review", "check_id",
     "card.present && velocity.card.sum_24h + amount > {0}",
     [(5_000_00,), (10_000_00,), (20_000_00,), (30_000_00,), (50_000_00,)]),
    ("card-declines", "block", None,
     "card.present && velocity.card.declines_1h >= {0}",
     [(3,), (4,), (5,), (6,), (8,)]),
    ("account-1h", "review", "manager_pin",
     'account.present && velocity.account.count_1h >= {0} && channel in ["alipay", "wechat"]',
     [(3,), (4,), (5,), (6,), (8,)]),
    ("terminal-offline", "review", "online_only",
     "!online && velocity.terminal.sum_1h + amount > {0}",
     [(2_000_00,), (5_000_00,), (10_000_00,), (20_000_00,), (40_000_00,)]),
    ("cashier-10m", "review", "manager_pin",
     "!kiosk && velocity.cashier.count_10m >= {0} && amount > {1}",
     [(20, 1_000_00), (25, 500_00), (30, 300_00), (40, 100_00), (60, 0)]),
    ("amount-z", "review", "manager_pin",
     "history.amount_z >= {0} && amount > {1}",
     [(4.0, 2_000_00), (5.0, 1_000_00), (6.0, 500_00), (8.0, 300_00), (9.5, 100_00)]),
    ("gift-cards", "review", "check_id",
     'basket.gift_cards > {0} && channel == "card" && amount > {1}',
     [(0, 2_000_00), (1, 1_000_00), (2, 500_00), (4, 300_00), (8, 0)]),
    ("refund-no-receipt", "block", None,
     "refund.no_receipt && amount > {0}",
     [(300_00,), (500_00,), (800_00,), (1_000_00,), (2_000_00,)]),
    ("foreign-offline", "review", "online_only",
     "card.foreign && !online && amount > {0}",
     [(100_00,), (200_00,), (500_00,), (1_000_00,)]),
]  # fmt: skip
LIST_RULE = 'card.blocked || card.bin_blocked || basket.categories.exists(x, x in ["weapons"])'


def _rules_toml() -> str:
    parts = ["[lists]", 'block_cards = ["card-13"]', 'block_bins = ["414720"]']
    priority = 500
    for prefix, action, step_up, template, params in FAMILIES:
        for i, p in enumerate(params):
            priority -= 1
            parts += [
                "[[rule]]",
                f'id = "{prefix}-{i}"',
                f"when = '{template.format(*p)}'",
                f'action = "{action}"',
                f'step_up = "{step_up}"' if step_up else "",
                f"priority = {priority}",
                f'reason_zh = "{prefix}"',
                f'reason_en = "{prefix} {{amount}}"',
            ]
    parts += [
        "[[rule]]", 'id = "lists"', f"when = '{LIST_RULE}'", 'action = "block"',
        "priority = 1000", 'reason_zh = "黑名单"', 'reason_en = "block list"',
    ]  # fmt: skip
    return "\n".join(p for p in parts if p)


def handwritten(f: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The same 50 rules as plain Python, the way one would write them by hand."""
    amount = f["amount"]
    blocks: list[str] = []
    reviews: list[str] = []
    card, online, kiosk = f["card.present"], f["online"], f["kiosk"]
    for i, (n, a) in enumerate(FAMILIES[0][4]):
        if card and f["velocity.card.count_10m"] >= n and amount > a:
            reviews.append(f"card-10m-{i}")
    for i, (s,) in enumerate(FAMILIES[1][4]):
        if card and f["velocity.card.sum_24h"] + amount > s:
            reviews.append(f"card-24h-sum-{i}")
    for i, (n,) in enumerate(FAMILIES[2][4]):
        if card and f["velocity.card.declines_1h"] >= n:
            blocks.append(f"card-declines-{i}")
    for i, (n,) in enumerate(FAMILIES[3][4]):
        if (
            f["account.present"]
            and f["velocity.account.count_1h"] >= n
            and f["channel"] in ("alipay", "wechat")
        ):
            reviews.append(f"account-1h-{i}")
    for i, (s,) in enumerate(FAMILIES[4][4]):
        if not online and f["velocity.terminal.sum_1h"] + amount > s:
            reviews.append(f"terminal-offline-{i}")
    for i, (n, a) in enumerate(FAMILIES[5][4]):
        if not kiosk and f["velocity.cashier.count_10m"] >= n and amount > a:
            reviews.append(f"cashier-10m-{i}")
    for i, (z, a) in enumerate(FAMILIES[6][4]):
        if f["history.amount_z"] >= z and amount > a:
            reviews.append(f"amount-z-{i}")
    for i, (g, a) in enumerate(FAMILIES[7][4]):
        if f["basket.gift_cards"] > g and f["channel"] == "card" and amount > a:
            reviews.append(f"gift-cards-{i}")
    for i, (a,) in enumerate(FAMILIES[8][4]):
        if f["refund.no_receipt"] and amount > a:
            blocks.append(f"refund-no-receipt-{i}")
    for i, (a,) in enumerate(FAMILIES[9][4]):
        if f["card.foreign"] and not online and amount > a:
            reviews.append(f"foreign-offline-{i}")
    if f["card.blocked"] or f["card.bin_blocked"] or "weapons" in f["basket.categories"]:
        blocks.insert(0, "lists")
    if blocks:
        return "block", tuple(blocks)
    if reviews:
        return "review", tuple(reviews)
    return "allow", ()


INSERT = (
    "INSERT INTO risk_events (at_ms, kind, outcome, amount_minor, currency, channel, "
    "terminal_id, cashier_id, card_token, account, hour_of_week, items)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _fill_history(db: Database, rows: int, rng: random.Random) -> None:
    now_ms = int(NOW.timestamp() * 1000)
    span_ms = 60 * 86_400_000  # two months of history
    step = span_ms / rows
    batch: list[tuple[Any, ...]] = []
    with db.transaction() as conn:
        for i in range(rows):
            at_ms = now_ms - span_ms + int(i * step)
            local = datetime.fromtimestamp(at_ms / 1000, TZ)
            hot = rng.random() < 0.2
            card = f"card-{rng.randrange(HOT_CARDS if hot else CARDS)}"
            outcome = "declined" if rng.random() < 0.02 else "approved"
            amount = int(rng.lognormvariate(8.5, 0.9))
            batch.append(
                (at_ms, "sale", outcome, amount, "CNY", "card", "T1", f"c{i % 7}", card,
                 f"acct-{rng.randrange(20_000)}", local.weekday() * 24 + local.hour,
                 rng.randint(1, 12))
            )  # fmt: skip
            if len(batch) == 50_000:
                conn.executemany(INSERT, batch)
                batch.clear()
        if batch:
            conn.executemany(INSERT, batch)


def _contexts(n: int, rng: random.Random) -> list[RiskContext]:
    out = []
    for i in range(n):
        kind = "refund" if rng.random() < 0.05 else "sale"
        channel = rng.choice(("card", "card", "alipay", "wechat", "cash"))
        hot = rng.random() < 0.5
        out.append(
            RiskContext(
                amount=Money(int(rng.lognormvariate(8.7, 1.2))),
                channel=channel,
                mode="kiosk" if rng.random() < 0.2 else "cashier",
                online=rng.random() < 0.7,
                at=NOW + timedelta(milliseconds=i),
                terminal_id="T1",
                kind=kind,
                cashier_id=f"c{i % 7}",
                card_token=f"card-{rng.randrange(HOT_CARDS if hot else CARDS)}"
                if channel == "card" else "",
                card_bin=rng.choice(("62220212", "414720", "43674211", "51234567")),
                account=f"acct-{rng.randrange(20_000)}" if channel in ("alipay", "wechat") else "",
                basket=BasketFacts(
                    items=rng.randint(1, 20), gift_cards=rng.choice((0, 0, 0, 1, 3)),
                    categories=frozenset({"weapons"}) if rng.random() < 0.01 else frozenset(),
                ),
                refund=RefundFacts(rng.random() < 0.5) if kind == "refund" else None,
            )
        )  # fmt: skip
    return out


def _p(samples: list[int], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] / 1000  # microseconds


def _timed(
    fn: Callable[[RiskContext], Any], contexts: list[RiskContext], clock: Callable[[], int]
) -> list[int]:
    out = []
    for c in contexts:
        t = clock()
        fn(c)
        out.append(clock() - t)
    return out


def test_risk_decision_latency_against_handwritten_rules(tmp_path: Path, record: Any) -> None:
    rng = random.Random(5)
    db = Database.create(tmp_path / "bench.db", os.urandom(32))
    t = time.perf_counter()
    _fill_history(db, ROWS, rng)
    fill_s = time.perf_counter() - t
    rules_text = _rules_toml()
    with db.transaction() as conn:
        install_ruleset(conn, rules_text, 1, installed_at="bench")
    t = time.perf_counter()
    with db.read() as conn:
        engine = RiskEngine.open(conn, now=NOW.astimezone(UTC))
    open_s = time.perf_counter() - t
    # The engine's state (a million rows of velocity and history) lives as long
    # as the process: the terminal freezes it out of the cyclic collector after
    # start-up (pos.risk.engine.settle), so a full collection does not walk it
    # in the middle of a decision. Both contenders run with it frozen.
    settle()
    assert len(engine.ruleset.rules) == 50

    contexts = _contexts(DECISIONS, rng)

    def by_hand(c: RiskContext) -> tuple[str, tuple[str, ...]]:
        return handwritten(engine.features(c, read_only=True))

    # Same answers first: the comparison is only fair if both do the same work.
    seen = {"allow": 0, "review": 0, "block": 0}
    for c in contexts:
        d = engine.decide(c)
        action, ids = by_hand(c)
        assert (d.action, set(d.rule_ids)) == (action, set(ids)), c
        seen[action] += 1
    assert all(seen.values()), seen

    # Interleaved rounds; the median round's p99 is reported, so that a burst of
    # load from other processes on a shared machine does not decide the figure.
    # Each decision is timed twice over: on the wall clock, and on the thread's
    # CPU clock, which leaves out the time the process sat descheduled. On the
    # shared 2-core machine a decision of ~90 us is preempted about once in 50,
    # for the length of another process's time slice (4-8 ms), so the wall-clock
    # p99 measures the other jobs; the CPU-time p99 is what the decision costs.
    rounds: dict[str, list[float]] = {"engine": [], "hand": [], "features": []}
    cpu: dict[str, list[float]] = {"engine": [], "hand": []}
    p50s: dict[str, list[float]] = {"engine": [], "hand": []}
    for _ in range(ROUNDS):
        for name, fn in (("engine", engine.decide), ("hand", by_hand),
                         ("features", engine.features)):  # fmt: skip
            ns = _timed(fn, contexts, time.perf_counter_ns)
            rounds[name].append(_p(ns, 0.99))
            if name in p50s:
                p50s[name].append(_p(ns, 0.50))
                cpu[name].append(_p(_timed(fn, contexts, time.thread_time_ns), 0.99))
    engine_p99 = statistics.median(cpu["engine"])
    hand_p99 = statistics.median(cpu["hand"])

    figures = {
        "history_rows": ROWS,
        "rules": len(engine.ruleset.rules),
        "decisions": len(contexts),
        "decisions_by_action": seen,
        "fill_seconds": round(fill_s, 1),
        "engine_open_seconds": round(open_s, 3),
        "engine_p50_us": statistics.median(p50s["engine"]),
        "engine_p99_us": engine_p99,
        "engine_p99_us_rounds": cpu["engine"],
        "engine_wall_p99_us": statistics.median(rounds["engine"]),
        "engine_wall_p99_us_rounds": rounds["engine"],
        "handwritten_p50_us": statistics.median(p50s["hand"]),
        "handwritten_p99_us": hand_p99,
        "handwritten_p99_us_rounds": cpu["hand"],
        "handwritten_wall_p99_us": statistics.median(rounds["hand"]),
        "features_only_p99_us": statistics.median(rounds["features"]),
        "p99_ratio_engine_over_handwritten": round(engine_p99 / hand_p99, 2),
        "goal_p99_us": 150,
        "goal_met": engine_p99 <= 150,
    }
    record("risk_decision", figures)
    db.close()
    # The rules-as-data engine may cost more than Python written for the purpose,
    # but not by more than this factor; the absolute goal is reported above.
    # The goal (150 us, CPU time) is reported, not asserted: on the shared build
    # machine the figure moves with the other jobs' load by 2-3x (docs/risk.md).
    # The ratio itself moves too: 3.2 at load 7, 4.2 on a quiet machine, where
    # the hand-written baseline gains more than the engine.
    assert figures["p99_ratio_engine_over_handwritten"] <= 4.5
