"""`pos risk check | rules validate|install|show | replay | list add|remove`."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pos.cli.context import CliContext
from pos.cli.store import open_for_command
from pos.clock import iso
from pos.errors import InvalidInput
from pos.events import Event
from pos.messages import msg
from pos.money import Money, MoneyError
from pos.risk import (
    BasketFacts,
    Decision,
    RefundFacts,
    RiskContext,
    RiskEngine,
    RuleSet,
    active_ruleset,
    install_ruleset,
    parse_ruleset,
)
from pos.risk.convert import ConvertError, convert_ruleset_text
from pos.risk.decision import journal_payload
from pos.risk.lists import LISTS, SUBJECTS
from pos.risk.replay import replay
from pos.risk.repository import OUTCOMES, stored_rulesets
from pos.services.checkout import CheckoutSettings
from pos.store.terminal import Terminal


def _read_rules(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", "check the file name") from exc


def _parse_time(text: str | None, terminal: Terminal) -> datetime:
    # The store's zone, as the till decides in (not the computer's).
    store_tz = ZoneInfo(CheckoutSettings().timezone)
    if text is None:
        return terminal.clock.now().astimezone(store_tz)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"not a time: {text!r}", "use ISO 8601, e.g. 2026-03-02T10:00+08:00"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=store_tz)


def _context(args: argparse.Namespace, terminal: Terminal) -> RiskContext:
    try:
        amount = Money.parse(args.amount, args.currency)
    except MoneyError as exc:
        raise InvalidInput(str(exc), "give the amount like 12.50") from None
    refund = None
    if args.kind == "refund":
        age = None if args.sale_age_days is None else timedelta(days=args.sale_age_days)
        refund = RefundFacts(
            has_receipt=not args.no_receipt, same_cashier=args.same_cashier, sale_age=age
        )
    return RiskContext(
        amount=amount,
        channel=args.channel,
        mode=args.mode,
        online=not args.offline,
        at=_parse_time(args.at, terminal),
        terminal_id=terminal.terminal_id,
        kind=args.kind,
        cashier_id=args.cashier,
        store_id=terminal.store_id,
        store_region=args.region,
        store_country=args.country,
        card_token=args.card_token,
        card_bin=args.card_bin,
        account=args.account,
        basket=BasketFacts(
            items=args.items,
            lines=args.items,
            categories=frozenset(args.category),
            gift_cards=args.gift_cards,
            high_risk=args.high_risk,
        ),
        refund=refund,
    )


def _decision_text(d: Decision, origin: str) -> str:
    head = f"decision: {d.action.upper()}"
    if d.step_ups:
        head += f" (step-up: {', '.join(d.step_ups)})"
    lines = [head]
    for r in d.reasons:
        lines.append(f"  [{r.rule_id}] {r.en}")
        lines.append(f"  [{r.rule_id}] {r.zh}")
    if d.overridden:
        lines.append(f"  overrode review rules: {', '.join(d.overridden)}")
    for s in d.shadow_hits:
        lines.append(f"  shadow [{s.rule_id}] would {s.action} (not acted on)")
    lines.append(f"anomaly score {d.score}/100, rule set version {d.ruleset_version} ({origin})")
    return "\n".join(lines)


def _check(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_for_command(ctx) as terminal:
        risk_ctx = _context(args, terminal)
        with terminal.db.read() as conn:
            engine = RiskEngine.open(conn, now=risk_ctx.at, currency=risk_ctx.currency)
            origin = active_ruleset(conn).origin
        decision = engine.decide(risk_ctx)
        recorded = None
        if args.record:
            with terminal.db.transaction() as conn:
                engine.record(conn, risk_ctx, args.record, decision)
                entry = terminal.journal.append(
                    conn, Event.RISK_DECISION, journal_payload(decision, risk_ctx, args.record)
                )
            recorded = entry.seq
        text = _decision_text(decision, origin)
        if recorded is not None:
            text += f"\nrecorded as {args.record} (journal #{recorded})"
        ctx.emit({**decision.to_dict(), "recorded_seq": recorded}, text)
    return 0


def _summary(rs: RuleSet) -> dict[str, Any]:
    return {
        "version": rs.version,
        "digest": rs.digest,
        "rules": len(rs.rules),
        "shadow": sum(r.shadow for r in rs.rules),
        "by_action": {
            a: sum(r.action == a for r in rs.rules) for a in ("allow", "review", "block")
        },
    }


def _validate(args: argparse.Namespace, ctx: CliContext) -> int:
    rs = parse_ruleset(_read_rules(args.file))
    s = _summary(rs)
    ctx.emit(
        s,
        f"{args.file}: valid, {s['rules']} rules ({s['by_action']['block']} block, "
        f"{s['by_action']['review']} review, {s['by_action']['allow']} allow, "
        f"{s['shadow']} in shadow mode)",
    )
    return 0


def _convert(args: argparse.Namespace, ctx: CliContext) -> int:
    """A rule file of the former condition language, rewritten as CEL."""
    try:
        text = convert_ruleset_text(_read_rules(args.file))
    except ConvertError as exc:
        raise InvalidInput(msg("risk.convert_failed", detail=str(exc))) from None
    rs = parse_ruleset(text)  # what was converted must load
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        ctx.emit(_summary(rs), f"{args.out}: {len(rs.rules)} rules converted to CEL")
    else:
        ctx.emit({"text": text, **_summary(rs)}, text.rstrip("\n"))
    return 0


def _install(args: argparse.Namespace, ctx: CliContext) -> int:
    text = _read_rules(args.file)
    with open_for_command(ctx) as terminal, terminal.db.transaction() as conn:
        same = stored_rulesets(conn)[:1]  # the same text again is not journaled again
        if same and same[0].source == text and args.version in (None, same[0].version):
            return _already_installed(ctx, parse_ruleset(text, same[0].version))
        version = args.version
        if version is None:
            file_version = parse_ruleset(text).version
            stored = stored_rulesets(conn)
            version = file_version or ((stored[0].version if stored else 0) + 1)
        rs = install_ruleset(
            conn, text, version, installed_at=iso(terminal.clock.now()), origin=args.origin
        )
        terminal.journal.append(
            conn,
            Event.RISK_RULESET_INSTALLED,
            {"version": rs.version, "digest": rs.digest, "rules": len(rs.rules),
             "origin": args.origin},
        )  # fmt: skip
    ctx.emit(_summary(rs), f"rule set version {rs.version} installed: {len(rs.rules)} rules")
    return 0


def _already_installed(ctx: CliContext, rs: RuleSet) -> int:
    ctx.emit(_summary(rs), f"rule set version {rs.version} is already installed")
    return 0


def _show(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_for_command(ctx) as terminal, terminal.db.read() as conn:
        active = active_ruleset(conn)
    rs = active.ruleset
    rows = [
        {"id": r.id, "action": r.action, "step_up": r.step_up, "priority": r.priority,
         "shadow": r.shadow, "when": r.condition.source}
        for r in rs.rules
    ]  # fmt: skip
    lines = [f"rule set version {rs.version} ({active.origin}), {len(rs.rules)} rules"]
    for v, why in active.skipped:
        lines.append(f"  skipped stored version {v}: {why}")
    for r in rows:
        tag = " [shadow]" if r["shadow"] else ""
        lines.append(f"  {r['priority']:>4} {r['action']:<6} {r['id']}{tag}: {r['when']}")
    ctx.emit({**_summary(rs), "origin": active.origin, "rule_list": rows}, "\n".join(lines))
    return 0


def _replay(args: argparse.Namespace, ctx: CliContext) -> int:
    rs = parse_ruleset(_read_rules(args.rules))
    with open_for_command(ctx) as terminal:
        since = _parse_time(args.since, terminal)
        with terminal.db.read() as conn:
            report = replay(conn, rs, since, currency=args.currency)
    ctx.emit(report.to_dict(), report.summary())
    return 0


def _list_change(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_for_command(ctx) as terminal, terminal.db.transaction() as conn:
        engine = RiskEngine.open(conn, now=terminal.clock.now())
        if args.list_cmd == "add":
            engine.add_list_entry(
                conn, args.list, args.subject, args.value, note=args.note, by=args.by,
                at=iso(terminal.clock.now()),
            )  # fmt: skip
            changed = True
        else:
            changed = engine.remove_list_entry(conn, args.list, args.subject, args.value)
        if changed:
            terminal.journal.append(
                conn,
                Event.RISK_LIST_CHANGED,
                {"change": args.list_cmd, "list": args.list, "subject": args.subject,
                 "value": args.value, "note": args.note, "by": args.by},
            )  # fmt: skip
    verb = "added to" if args.list_cmd == "add" else "removed from"
    text = f"{args.subject} {args.value} {verb} the {args.list} list"
    if not changed:
        text = f"{args.subject} {args.value} was not on the {args.list} list"
    ctx.emit({"changed": changed}, text)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    risk = sub.add_parser("risk", help="offline risk control")
    rsub = risk.add_subparsers(dest="risk_command", metavar="SUBCOMMAND", required=True)

    check = rsub.add_parser("check", help="decide one payment and explain why")
    check.add_argument("--amount", required=True, help="amount in major units, e.g. 12.50")
    check.add_argument("--channel", required=True, help="cash, card, alipay, wechat ...")
    check.add_argument("--currency", default="CNY")
    check.add_argument("--kind", choices=("sale", "refund"), default="sale")
    check.add_argument("--mode", choices=("cashier", "kiosk"), default="cashier")
    check.add_argument("--offline", action="store_true", help="the terminal is offline")
    check.add_argument("--card-token", default="", help="keyed hash of the card number")
    check.add_argument("--card-bin", default="", help="first 6-8 digits of the card")
    check.add_argument("--account", default="", help="payment-code account")
    check.add_argument("--cashier", default="", help="cashier id")
    check.add_argument("--region", default="", help="the store's region")
    check.add_argument("--country", default="CN", help="the store's country")
    check.add_argument("--items", type=int, default=1)
    check.add_argument("--category", action="append", default=[], help="basket category")
    check.add_argument("--gift-cards", type=int, default=0)
    check.add_argument("--high-risk", type=int, default=0, help="items of high-risk SKUs")
    check.add_argument("--no-receipt", action="store_true", help="refund: no original receipt")
    check.add_argument("--same-cashier", action="store_true", help="refund: same cashier")
    check.add_argument("--sale-age-days", type=int, help="refund: age of the sale")
    check.add_argument("--at", help="time, ISO 8601 (default: now; without a zone, the store's)")
    check.add_argument(
        "--record", choices=OUTCOMES, help="also record the attempt with this outcome (journaled)"
    )
    check.set_defaults(func=_check)

    rules = rsub.add_parser("rules", help="validate, install or show rule sets")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    validate = rules_sub.add_parser("validate", help="check a rule file without installing it")
    validate.add_argument("file")
    validate.set_defaults(func=_validate)
    install = rules_sub.add_parser("install", help="validate and install a rule file")
    install.add_argument("file")
    install.add_argument("--version", type=int, help="default: the file's, else newest + 1")
    install.add_argument("--origin", default="local", help="where the rule set came from")
    install.set_defaults(func=_install)
    show = rules_sub.add_parser("show", help="the rule set in force")
    show.set_defaults(func=_show)
    conv = rules_sub.add_parser("convert", help="rewrite a rule file of the former language as CEL")
    conv.add_argument("file")
    conv.add_argument("--out", help="write the CEL file here (default: print it)")
    conv.set_defaults(func=_convert)

    rp = rsub.add_parser("replay", help="replay recorded history against a candidate rule set")
    rp.add_argument("--rules", required=True, help="candidate rule file")
    rp.add_argument("--since", required=True, help="start date or time, ISO 8601")
    rp.add_argument("--currency", default="CNY")
    rp.set_defaults(func=_replay)

    lst = rsub.add_parser("list", help="the terminal's own block/allow list entries")
    lst_sub = lst.add_subparsers(dest="list_cmd", metavar="ACTION", required=True)
    for name in ("add", "remove"):
        p = lst_sub.add_parser(name, help=f"{name} an entry")
        p.add_argument("list", choices=LISTS)
        p.add_argument("subject", choices=SUBJECTS)
        p.add_argument("value")
        p.add_argument("--note", default="")
        p.add_argument("--by", default="", help="who made the change")
        p.set_defaults(func=_list_change)
