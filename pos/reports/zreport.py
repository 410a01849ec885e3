"""The X report (the day so far, changes nothing) and the Z report (closes the
business day).

Closing a day is one transaction: the report is computed, numbered (Z numbers
run 1, 2, 3 ... per terminal without gaps), stored with its SHA-256 and
appended to the signed journal as `day.closed`, with the manager's approval.
The journal entry's Ed25519 signature is what signs the Z report; the hash
ties the stored copy to it, so a reprint years later is checked against it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pos.auth import Approval, require_approval
from pos.canonical import dumps, loads
from pos.clock import iso
from pos.errors import InvalidInput, NotAllowed, NotFound
from pos.events import Event
from pos.messages import msg
from pos.money import Money
from pos.reports.compute import ReportContext, ReportDataError, compute_report
from pos.reports.model import SettlementReport, report_from_dict

EVENT = Event.DAY_CLOSED


@dataclass(frozen=True)
class ClosedDay:
    z_no: int
    business_date: str
    sha256: str
    journal_seq: int
    report: SettlementReport


def digest(report: SettlementReport) -> str:
    return hashlib.sha256(dumps(report.to_dict())).hexdigest()


def x_report(
    db: Any,
    ctx: ReportContext,
    business_date: str,
    now: datetime,
    opening_float: Money | None = None,
) -> SettlementReport:
    """The business day so far. Nothing is written."""
    with db.read() as conn:
        return compute_report(
            conn, ctx, business_date, kind="X", now=now, opening_float=opening_float
        )


def daily_report(
    db: Any, ctx: ReportContext, business_date: str, now: datetime
) -> SettlementReport:
    """The day's settlement: the Z report as it was closed, when the day is
    closed; otherwise the figures as they stand."""
    with db.read() as conn:
        if _z_row(conn, business_date=business_date) is not None:
            return load_z(db, business_date=business_date).report
        return compute_report(conn, ctx, business_date, kind="daily", now=now)


def close_day(
    db: Any,
    journal: Any,
    ctx: ReportContext,
    business_date: str,
    *,
    now: datetime,
    counted: Money,
    reason: str,
    approval: Approval | None,
    opening_float: Money | None = None,
    force: bool = False,
) -> ClosedDay:
    """Close `business_date` with a Z report. Refused when the day is closed
    already, when orders are still open, when cash is over or short without a
    reason, or when the tables disagree with the journal (unless `force`,
    which the Z report then records)."""
    approval = require_approval(
        approval, msg("users.action.close_day", business_date=business_date)
    )
    with db.transaction() as conn:
        row = _z_row(conn, business_date=business_date)
        if row is not None:
            raise NotAllowed(msg("reports.z.already_closed", date=business_date, z=row[0]))
        still_open = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM orders WHERE state IN ('open', 'parked') AND business_date <= ?"
                " ORDER BY created_at",
                (business_date,),
            )
        ]
        if still_open:
            shown = ", ".join(still_open[:5]) + (" ..." if len(still_open) > 5 else "")
            raise NotAllowed(
                msg(
                    "reports.z.orders_open",
                    count=len(still_open),
                    date=business_date,
                    orders=shown,
                )
            )
        z_no = int(conn.execute("SELECT COALESCE(MAX(z_no), 0) + 1 FROM z_reports").fetchone()[0])
        name = conn.execute("SELECT name FROM users WHERE id = ?", (approval.user_id,)).fetchone()
        closed_by = f"{name[0]} ({approval.user_id})" if name else approval.user_id
        report = compute_report(
            conn,
            ctx,
            business_date,
            kind="Z",
            now=now,
            counted=counted,
            reason=reason.strip(),
            opening_float=opening_float,
            z_no=z_no,
            closed_by=closed_by,
        )
        over = report.cash.over_short
        if over is not None and over.minor != 0 and not reason.strip():
            word = "over" if over.minor > 0 else "short"
            raise InvalidInput(
                msg(
                    f"reports.z.drawer_{word}",
                    amount=Money(abs(over.minor), over.currency),
                    expected=report.cash.expected,
                    counted=counted,
                )
            )
        if not report.journal.agrees:
            if not force:
                raise NotAllowed(
                    msg(
                        "reports.z.journal_disagrees",
                        problems="; ".join(report.journal.problems[:3]),
                    ),
                )
            report = replace(report, extra={**report.extra, "forced": "journal differs"})
        doc = report.to_dict()
        sha = hashlib.sha256(dumps(doc)).hexdigest()
        entry = journal.append(
            conn,
            EVENT,
            {"z_no": z_no, "business_date": business_date, "sha256": sha, "report": doc},
        )
        conn.execute(
            "INSERT INTO z_reports (z_no, business_date, created_at, closed_by, sha256,"
            " journal_seq, doc) VALUES (?,?,?,?,?,?,?)",
            (z_no, business_date, iso(now), closed_by, sha, entry.seq, dumps(doc).decode()),
        )
        conn.execute(
            "INSERT INTO approvals (action, subject_id, approver_id, requested_by, reason,"
            " created_at) VALUES (?,?,?,?,?,?)",
            ("day.close", business_date, approval.user_id, approval.user_id, reason, iso(now)),
        )
    return ClosedDay(z_no, business_date, sha, entry.seq, report)


def _z_row(conn: Any, *, business_date: str | None = None, z_no: int | None = None) -> Any:
    if z_no is not None:
        return conn.execute(
            "SELECT z_no, business_date, sha256, journal_seq, doc FROM z_reports WHERE z_no = ?",
            (z_no,),
        ).fetchone()
    return conn.execute(
        "SELECT z_no, business_date, sha256, journal_seq, doc FROM z_reports"
        " WHERE business_date = ?",
        (business_date,),
    ).fetchone()


def is_closed(conn: Any, business_date: str) -> bool:
    return _z_row(conn, business_date=business_date) is not None


def load_z(db: Any, *, business_date: str | None = None, z_no: int | None = None) -> ClosedDay:
    """A closed day's Z report, checked against its signed journal entry."""
    with db.read() as conn:
        row = _z_row(conn, business_date=business_date, z_no=z_no)
        if row is None:
            if z_no is not None:
                raise NotFound(msg("reports.z.no_such_z", z=z_no))
            raise NotFound(msg("reports.z.not_closed", date=business_date))
        number, day, sha, seq, doc = row
        entry = conn.execute("SELECT type, payload FROM journal WHERE seq = ?", (seq,)).fetchone()
    bad = ReportDataError(msg("reports.z.tampered", z=number, date=day, seq=seq))
    if entry is None or entry[0] != EVENT:
        raise bad
    payload = loads(entry[1])
    if hashlib.sha256(doc.encode()).hexdigest() != sha or payload.get("sha256") != sha:
        raise bad
    if dumps(payload.get("report")).decode() != doc:
        raise bad
    try:
        report = report_from_dict(loads(doc))
    except ValueError as exc:
        raise ReportDataError(msg("reports.z.unreadable", z=number, detail=str(exc))) from exc
    return ClosedDay(int(number), str(day), str(sha), int(seq), report)


def z_reports_agree_with_journal(conn: Any) -> list[str]:
    """For `pos journal verify`: every stored Z report is the one its signed
    `day.closed` entry names, and every `day.closed` entry has its Z report."""
    problems: list[str] = []
    stored = {
        seq: (z_no, sha, doc, (z_no, day, closed_by))
        for z_no, sha, seq, doc, day, closed_by in conn.execute(
            "SELECT z_no, sha256, journal_seq, doc, business_date, closed_by FROM z_reports"
            " ORDER BY z_no"
        )
    }
    for seq, payload in conn.execute(
        "SELECT seq, payload FROM journal WHERE type = ? ORDER BY seq", (EVENT,)
    ):
        z = stored.pop(seq, None)
        signed = loads(payload)
        sha = signed.get("sha256")
        report = signed.get("report") if isinstance(signed.get("report"), dict) else {}
        named = (signed.get("z_no"), signed.get("business_date"), report.get("closed_by"))
        if z is None:
            problems.append(f"journal entry {seq} closed a day whose Z report is not stored")
        elif z[1] != sha or hashlib.sha256(z[2].encode()).hexdigest() != sha or z[3] != named:
            problems.append(f"Z {z[0]} differs from its signed journal entry {seq}")
    for seq, (z_no, _, _, _) in stored.items():
        problems.append(f"Z {z_no} names journal entry {seq}, which did not close a day")
    return problems
