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
        raise InvalidInput(msg("risk.cli.cannot_read", path=path, detail=str(exc))) from exc


def _parse_time(text: str | None, terminal: Terminal) -> datetime:
    # The store's zone, as the till decides in (not the computer's).
    store_tz = ZoneInfo(CheckoutSettings().timezone)
    if text is None:
        return terminal.clock.now().astimezone(store_tz)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(msg("risk.cli.bad_time", text=repr(text))) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=store_tz)


def _context(args: argparse.Namespace, terminal: Terminal) -> RiskContext:
    try:
        amount = Money.parse(args.amount, args.currency)
    except MoneyError:
        raise InvalidInput(msg("cli.bad_amount", text=repr(args.amount))) from None
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


def _decision_text(d: Decision, origin: str, lang: str) -> str:
    def say(code: str, **params: object) -> str:
        return msg(code, **params).render(lang)

    action = say(f"risk.action.{d.action}")
    if d.step_ups:
        head = say("risk.cli.decision_step_ups", action=action, step_ups=", ".join(d.step_ups))
    else:
        head = say("risk.cli.decision", action=action)
    lines = [head]
    for r in d.reasons:
        lines.append(f"  [{r.rule_id}] {r.text(lang)}")
    if d.overridden:
        lines.append("  " + say("risk.cli.overrode", rules=", ".join(d.overridden)))
    for s in d.shadow_hits:
        lines.append(
            "  " + say("risk.cli.shadow_hit", rule=s.rule_id, action=say(f"risk.action.{s.action}"))
        )
    lines.append(say("risk.cli.score", score=d.score, version=d.ruleset_version, origin=origin))
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
        text = _decision_text(decision, origin, ctx.lang)
        if recorded is not None:
            outcome = msg(f"risk.outcome.{args.record}")
            text += "\n" + msg("risk.cli.recorded", outcome=outcome, seq=recorded).render(ctx.lang)
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
        msg(
            "risk.cli.valid",
            file=args.file,
            rules=s["rules"],
            block=s["by_action"]["block"],
            review=s["by_action"]["review"],
            allow=s["by_action"]["allow"],
            shadow=s["shadow"],
        ),
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
        ctx.emit(_summary(rs), msg("risk.cli.converted", file=args.out, rules=len(rs.rules)))
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
    ctx.emit(_summary(rs), msg("risk.cli.installed", version=rs.version, rules=len(rs.rules)))
    return 0


def _already_installed(ctx: CliContext, rs: RuleSet) -> int:
    ctx.emit(_summary(rs), msg("risk.cli.already_installed", version=rs.version))
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
    lang = ctx.lang
    lines = [
        msg("risk.cli.show_head", version=rs.version, origin=active.origin, rules=len(rs.rules))
        .render(lang)
    ]  # fmt: skip
    for v, why in active.skipped:
        lines.append("  " + msg("risk.cli.skipped", version=v, why=why).render(lang))
    for r in rows:
        tag = " " + msg("risk.cli.shadow_tag").render(lang) if r["shadow"] else ""
        action = msg(f"risk.action.{r['action']}").render(lang)
        lines.append(f"  {r['priority']:>4} {action:<6} {r['id']}{tag}: {r['when']}")
    ctx.emit({**_summary(rs), "origin": active.origin, "rule_list": rows}, "\n".join(lines))
    return 0


def _replay(args: argparse.Namespace, ctx: CliContext) -> int:
    rs = parse_ruleset(_read_rules(args.rules))
    with open_for_command(ctx) as terminal:
        since = _parse_time(args.since, terminal)
        with terminal.db.read() as conn:
            report = replay(conn, rs, since, currency=args.currency)
    ctx.emit(report.to_dict(), report.summary(ctx.lang))
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
    done = "risk.cli.list_added" if args.list_cmd == "add" else "risk.cli.list_removed"
    text = msg(
        done if changed else "risk.cli.list_absent",
        subject=msg(f"risk.subject.{args.subject}"),
        value=args.value,
        list=msg(f"risk.list.{args.list}"),
    )
    ctx.emit({"changed": changed}, text)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    risk = sub.add_parser("risk", help="clihelp.risk.risk")
    rsub = risk.add_subparsers(dest="risk_command", metavar="SUBCOMMAND", required=True)

    check = rsub.add_parser("check", help="clihelp.risk.check")
    check.add_argument("--amount", required=True, help="clihelp.risk.amount")
    check.add_argument("--channel", required=True, help="clihelp.risk.channel")
    check.add_argument("--currency", default="CNY")
    check.add_argument("--kind", choices=("sale", "refund"), default="sale")
    check.add_argument("--mode", choices=("cashier", "kiosk"), default="cashier")
    check.add_argument("--offline", action="store_true", help="clihelp.risk.offline")
    check.add_argument("--card-token", default="", help="clihelp.risk.card_token")
    check.add_argument("--card-bin", default="", help="clihelp.risk.card_bin")
    check.add_argument("--account", default="", help="clihelp.risk.account")
    check.add_argument("--cashier", default="", help="clihelp.risk.cashier")
    check.add_argument("--region", default="", help="clihelp.risk.region")
    check.add_argument("--country", default="CN", help="clihelp.risk.country")
    check.add_argument("--items", type=int, default=1)
    check.add_argument("--category", action="append", default=[], help="clihelp.risk.category")
    check.add_argument("--gift-cards", type=int, default=0)
    check.add_argument("--high-risk", type=int, default=0, help="clihelp.risk.high_risk")
    check.add_argument("--no-receipt", action="store_true", help="clihelp.risk.no_receipt")
    check.add_argument("--same-cashier", action="store_true", help="clihelp.risk.same_cashier")
    check.add_argument("--sale-age-days", type=int, help="clihelp.risk.sale_age_days")
    check.add_argument("--at", help="clihelp.risk.at")
    check.add_argument("--record", choices=OUTCOMES, help="clihelp.risk.record")
    check.set_defaults(func=_check)

    rules = rsub.add_parser("rules", help="clihelp.risk.rules")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    validate = rules_sub.add_parser("validate", help="clihelp.risk.validate")
    validate.add_argument("file")
    validate.set_defaults(func=_validate)
    install = rules_sub.add_parser("install", help="clihelp.risk.install")
    install.add_argument("file")
    install.add_argument("--version", type=int, help="clihelp.risk.version")
    install.add_argument("--origin", default="local", help="clihelp.risk.origin")
    install.set_defaults(func=_install)
    show = rules_sub.add_parser("show", help="clihelp.risk.show")
    show.set_defaults(func=_show)
    conv = rules_sub.add_parser("convert", help="clihelp.risk.convert")
    conv.add_argument("file")
    conv.add_argument("--out", help="clihelp.risk.out")
    conv.set_defaults(func=_convert)

    rp = rsub.add_parser("replay", help="clihelp.risk.replay")
    rp.add_argument("--rules", required=True, help="clihelp.risk.rules_2")
    rp.add_argument("--since", required=True, help="clihelp.risk.since")
    rp.add_argument("--currency", default="CNY")
    rp.set_defaults(func=_replay)

    lst = rsub.add_parser("list", help="clihelp.risk.list")
    lst_sub = lst.add_subparsers(dest="list_cmd", metavar="ACTION", required=True)
    for name in ("add", "remove"):
        p = lst_sub.add_parser(name, help=f"clihelp.risk.list_{name}")
        p.add_argument("list", choices=LISTS)
        p.add_argument("subject", choices=SUBJECTS)
        p.add_argument("value")
        p.add_argument("--note", default="")
        p.add_argument("--by", default="", help="clihelp.risk.by")
        p.set_defaults(func=_list_change)
