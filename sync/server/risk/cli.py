"""`pos-server risk ...`: store places, chain alerts, the hot list, and the
rule lifecycle (draft, backtest, shadow, publish), every step audited.

    pos-server risk place S001 --lat 31.2304 --lon 121.4737 --city 上海
    pos-server risk alerts [--store S001]
    pos-server risk hotlist [--publish]
    pos-server risk draft FILE [--by NAME]
    pos-server risk backtest RULE_ID [--by NAME]
    pos-server risk shadow RULE_ID [--by NAME]
    pos-server risk publish RULE_ID [--by NAME]
    pos-server risk rules
    pos-server risk audit
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from pos.clock import SystemClock
from sync.server.risk import RiskHook, lifecycle, queries

EngineOf = Callable[[argparse.Namespace], Engine]
KeyOf = Callable[[argparse.Namespace], Any]


def _print(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else text)


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], engine_of: EngineOf, key_of: KeyOf
) -> None:
    r = sub.add_parser("risk", help="clihelp.server_risk.risk")
    rs = r.add_subparsers(dest="risk_command", metavar="ACTION", required=True)

    def place(args: argparse.Namespace) -> int:
        queries.set_place(engine_of(args), args.store, args.lat, args.lon, args.city, args.tz)
        _print(args, {"store_id": args.store, "lat": args.lat, "lon": args.lon},
               f"{args.store}: {args.lat}, {args.lon} {args.city}".rstrip())  # fmt: skip
        return 0

    p = rs.add_parser("place", help="clihelp.server_risk.place")
    p.add_argument("store")
    p.add_argument("--lat", type=float, required=True)
    p.add_argument("--lon", type=float, required=True)
    p.add_argument("--city", default="")
    p.add_argument("--tz", default="Asia/Shanghai")
    p.set_defaults(func=place)

    def alerts(args: argparse.Namespace) -> int:
        rows = queries.alerts(engine_of(args), args.store)
        lines = [
            f"{a['created_at']} {a['store_id']} {a['terminal_id']} #{a['seq']} "
            f"{a['rule']} {a['subject']} {a['value'][:16]} {a['detail']}"
            for a in rows
        ]
        _print(args, rows, "\n".join(lines) or "no chain risk alerts")
        return 0

    a = rs.add_parser("alerts", help="clihelp.server_risk.alerts")
    a.add_argument("--store")
    a.set_defaults(func=alerts)

    def hotlist(args: argparse.Namespace) -> int:
        engine = engine_of(args)
        clock = SystemClock()
        rows = queries.hotlist(engine, clock)
        version = None
        if args.publish:
            version = RiskHook(engine, clock, key_of(args)).publish_hotlist()
        text = "\n".join(
            f"{h['subject']} {h['value']} {h['rule']} until {h['expires']}" for h in rows
        )
        if version is not None:
            text += f"\npublished as configuration version {version}"
        _print(args, {"entries": rows, "version": version}, text.strip() or "the hot list is empty")
        return 0

    h = rs.add_parser("hotlist", help="clihelp.server_risk.hotlist")
    h.add_argument("--publish", action="store_true")
    h.set_defaults(func=hotlist)

    def step(name: str) -> Callable[[argparse.Namespace], int]:
        def run(args: argparse.Namespace) -> int:
            engine, clock = engine_of(args), SystemClock()
            if name == "draft":
                text = Path(args.target).read_text(encoding="utf-8")
                out = lifecycle.draft(engine, clock, args.by, text)
            elif name == "backtest":
                out = lifecycle.backtest(engine, clock, args.by, args.target)
            else:
                out = lifecycle.advance(engine, clock, key_of(args), args.by, args.target, name)
            _print(args, out, lifecycle.describe(out))
            return 0

        return run

    for name, what, target in (
        ("draft", "clihelp.server_risk.draft", "file"),
        ("backtest", "clihelp.server_risk.backtest", "rule_id"),
        ("shadow", "clihelp.server_risk.shadow", "rule_id"),
        ("publish", "clihelp.server_risk.publish", "rule_id"),
    ):
        sp = rs.add_parser(name, help=what)
        sp.add_argument("target", metavar=target.upper())
        sp.add_argument("--by", default="operator", help="clihelp.server_risk.by")
        sp.set_defaults(func=step(name))

    def rules(args: argparse.Namespace) -> int:
        rows = lifecycle.drafts(engine_of(args))
        lines = [f"{d['id']} {d['state']} (updated {d['updated_at']})" for d in rows]
        _print(args, rows, "\n".join(lines) or "no drafted rules")
        return 0

    rs.add_parser("rules", help="clihelp.server_risk.rules").set_defaults(func=rules)

    def audit(args: argparse.Namespace) -> int:
        rows = lifecycle.audit_log(engine_of(args))
        lines = [f"{r['at']} {r['actor']} {r['action']} {r['rule_id']} {r['detail']}" for r in rows]
        _print(args, rows, "\n".join(lines) or "no lifecycle steps yet")
        return 0

    rs.add_parser("audit", help="clihelp.server_risk.audit").set_defaults(func=audit)
