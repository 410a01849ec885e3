"""One case of the tamper matrix: copy the killed till, damage the copy as an
attacker or a disk would, run `pos journal verify` through the CLI's own
`main()` twice (English, then Chinese, on the same damaged copy: the first run
must not wipe out the evidence the second needs), and judge what was said.

A case is a plain tuple, so a pool of long-lived worker processes can run
them: the 1,000-sale matrix is about 3,000 cases."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from pos.cli.main import main
from pos.clock import SystemClock
from pos.messages import catalogue, msg
from pos.store import backup
from pos.store.db import Connection
from pos.store.terminal import DB_FILE, open_terminal
from tests.pos.store.till_store import Outcome, flip_byte, raw_connection

PAGE = 4096
FRAME = 24 + PAGE
WAL = f"{DB_FILE}-wal"
TRACEBACK = "Traceback (most recent call last)"

# What a damaged store may answer: each names what is damaged and the next
# step (restore a backup, recover from the server, a manager's acknowledgement).
REFUSALS = frozenset(
    {
        "store.damaged",  # refused at open: a page, the WAL
        "store.check.damaged",  # the same, as the open-time check words it
        "store.damaged_in_use",  # a damaged page met while reading
        "store.check.damaged_in_use",  # the same, as the open-time check words it
        "store.db.wrong_key",  # page 1 damaged: "wrong key, or not a database"
        "verify.failed",  # opened (perhaps held), `pos journal verify` names it
    }
)
LOSS_MARK = "No sale is taken until a manager acknowledges it"

Case = tuple[str, str, str, tuple[object, ...]]  # group, name, action, arguments


@dataclass(frozen=True)
class Sources:
    """What the damage is made from: the killed till, its older copies."""

    till: Path
    older_dir: Path  # the whole data directory as it was when older_db was taken
    older_db: Path
    older_backup: Path
    backup_seq: int


@dataclass
class Verdict:
    group: str
    name: str
    outcome: str  # "exit 6", "exit 5", "missed (exit 0)", "traceback", "not a catalogue refusal"
    code: int
    message_code: str
    detected_by: str
    said: str


# -- damage ---------------------------------------------------------------


def damage(data_dir: Path, action: str, args: tuple[object, ...], src: Sources) -> None:
    if action == "flip":
        flip_byte(data_dir / str(args[0]), int(str(args[1])))
    elif action == "flip_keep_mtime":
        # The till closed the store cleanly where it lies (a check at open may
        # trust what it recorded then); the attacker flips a byte and puts the
        # modification time back. The damage must still be found.
        path = data_dir / str(args[0])
        if path.name == DB_FILE:
            with open_terminal(data_dir, SystemClock()):
                pass
        before = path.stat()
        flip_byte(path, int(str(args[1])))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif action == "truncate":
        with (data_dir / WAL).open("r+b") as fh:
            fh.truncate(int(str(args[0])))
    elif action == "edit":
        _edit(data_dir, str(args[0]))
    elif action == "delete":
        _delete(data_dir, str(args[0]))
    elif action == "rollback":
        shutil.copy(src.older_db, data_dir / DB_FILE)
        for suffix in ("-wal", "-shm"):
            (data_dir / f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    elif action == "rollback_files":
        # Older copies of the named files put back together (the anchor file
        # with the database; with the demo keystore too: the whole directory).
        for name in args:
            shutil.copy(src.older_dir / str(name), data_dir / str(name))
        for suffix in ("-wal", "-shm"):
            (data_dir / f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    elif action == "restore_older":
        conn = raw_connection(data_dir)
        try:
            high = int(conn.execute("SELECT max(seq) FROM journal").fetchone()[0])
        finally:
            conn.close()
        # The operator accepts the loss; the next start must still hold the till.
        backup.restore(
            data_dir,
            src.older_backup,
            SystemClock(),
            force=True,
            accept_loss=high - src.backup_seq,
        )
    else:
        raise ValueError(action)


def _edit(data_dir: Path, table: str) -> None:
    conn = raw_connection(data_dir)
    try:
        cols = conn.execute(f"PRAGMA table_info({table})").fetchall()
        pk = [c["name"] for c in cols if c["pk"]]
        target = next(
            (c for c in reversed(cols) if not c["pk"] and c["name"] not in ("created_at",)),
            cols[-1],
        )
        where = " AND ".join(f"{k} = ?" for k in pk) or "rowid = ?"
        # An order's document is signed only once it is paid; an open, parked or
        # voided order's edit is a known gap (docs/store.md), so the middle
        # paid order is taken, whatever the kill left open.
        only = " WHERE state = 'paid'" if table == "orders" else ""
        key = conn.execute(
            f"SELECT {', '.join(pk) or 'rowid'} FROM {table}{only} LIMIT 1 OFFSET "
            f"(SELECT count(*) / 2 FROM {table}{only})"
        ).fetchone()
        value = conn.execute(
            f"SELECT {target['name']} FROM {table} WHERE {where}", tuple(key)
        ).fetchone()[0]
        # Counters are tampered downwards (raising one hides nothing); text gains a
        # letter. The commit counter by 2: a kill during a COMMIT's fsync leaves
        # the database one commit ahead of its anchor, so 1 is within that margin.
        step = 2 if table == "commit_counter" else 1
        new: object = (
            (value - step if value > 0 else value + 1)
            if isinstance(value, int)
            else (str(value or "") + "x")
        )
        conn.execute(f"UPDATE {table} SET {target['name']} = ? WHERE {where}", (new, *key))
    finally:
        conn.close()


def _delete(data_dir: Path, table: str) -> None:
    conn = raw_connection(data_dir)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(
            f"DELETE FROM {table} WHERE rowid = (SELECT rowid FROM {table} LIMIT 1 OFFSET "
            f"(SELECT count(*) / 2 FROM {table}))"
            if _has_rowid(conn, table)
            else f"DELETE FROM {table} WHERE ({_pk(conn, table)}) IN "
            f"(SELECT {_pk(conn, table)} FROM {table} LIMIT 1)"
        )
    finally:
        conn.close()


def _pk(conn: Connection, table: str) -> str:
    return ", ".join(c["name"] for c in conn.execute(f"PRAGMA table_info({table})") if c["pk"])


def _has_rowid(conn: Connection, table: str) -> bool:
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    return "WITHOUT ROWID" not in sql.upper()


def verify_command(data_dir: Path, lang: str) -> Outcome:
    """`pos --lang LANG --data-dir DIR journal verify` through the CLI's own
    error boundary; anything escaping main() is a traceback a person saw."""
    out, err = io.StringIO(), io.StringIO()
    args = ["--lang", lang, "--data-dir", str(data_dir), "journal", "verify"]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    except BaseException:
        return Outcome(-1, out.getvalue(), err.getvalue(), traceback.format_exc())
    return Outcome(code, out.getvalue(), err.getvalue())


# -- judging what was said --------------------------------------------------


@cache
def _pattern(code: str, lang: str) -> re.Pattern[str]:
    """A catalogue text with every {field} open: what it looks like rendered."""
    text = catalogue()[code][lang]
    parts = re.split(r"\{[^{}]*\}", text)
    return re.compile("(?s)" + ".+?".join(re.escape(p) for p in parts))


@cache
def _noise(lang: str) -> tuple[str, ...]:
    return (msg("store.demo_warning").render(lang),)


def catalogue_code(said: str, lang: str) -> str:
    """The refusal code whose text `said` is, in `lang` ('' when none)."""
    text = said
    for warning in _noise(lang):
        text = text.replace(warning, "")
    text = text.strip()
    prefix = _pattern("common.error_prefix", lang)
    for code in sorted(REFUSALS):
        if code not in catalogue():
            continue
        body = _pattern(code, lang).pattern.removeprefix("(?s)")
        if re.fullmatch(f"(?s){body}", text):
            return code
        wrapped = prefix.pattern.removeprefix("(?s)").replace(".+?", body, 1)
        if re.fullmatch(f"(?s){wrapped}", text):
            return code
    return ""


def run_case(case: Case, src: Sources, work: Path) -> Verdict:
    group, name, action, args = case
    data_dir = work / "till"
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.copytree(src.till, data_dir)
    damage(data_dir, action, args, src)
    runs = {lang: verify_command(data_dir, lang) for lang in ("en", "zh_CN")}
    en, zh = runs["en"], runs["zh_CN"]
    said_en = (en.out + en.err).strip()
    code_en = catalogue_code(said_en, "en")
    code_zh = catalogue_code((zh.out + zh.err).strip(), "zh_CN")
    tracebacks = [r.traceback for r in runs.values() if r.traceback] + [
        r.out + r.err for r in runs.values() if TRACEBACK in r.out + r.err
    ]
    logged = data_dir / "logs" / "pos-cli.log"  # an unexpected failure's traceback
    if tracebacks or logged.exists():
        outcome = "traceback"
        said_en = (tracebacks or [logged.read_text(errors="replace")])[0]
    elif en.code not in (5, 6) or zh.code != en.code:
        outcome = f"missed (exit {en.code}, {zh.code})"
    elif not code_en or code_en != code_zh:
        outcome = f"not a catalogue refusal ({code_en or '-'} / {code_zh or '-'})"
    else:
        outcome = f"exit {en.code}"
    if en.code == 0:
        detected_by = "nothing"
    elif code_en == "verify.failed":
        detected_by = "held at open; journal verify" if LOSS_MARK in said_en else "journal verify"
    else:
        detected_by = "open (every command)"
    return Verdict(group, name, outcome, en.code, code_en, detected_by, said_en[-600:])


# -- a pool of long-lived workers ---------------------------------------------

_SRC: Sources | None = None
_WORK: Path | None = None


def _start(src: Sources, work: Path) -> None:
    global _SRC, _WORK
    _SRC, _WORK = src, work / f"w{os.getpid()}"
    _WORK.mkdir(parents=True, exist_ok=True)


def _one(case: Case) -> dict[str, object]:
    assert _SRC is not None and _WORK is not None
    return asdict(run_case(case, _SRC, _WORK))


def run_all(cases: list[Case], src: Sources, work: Path, workers: int) -> Iterator[Verdict]:
    """Every case, in this process or in `workers` spawned processes."""
    if workers <= 1:
        _start(src, work)
        for case in cases:
            yield Verdict(**_one(case))  # type: ignore[arg-type]
        return
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # no SQLCipher handle crosses a fork
    with ctx.Pool(workers, initializer=_start, initargs=(src, work)) as pool:
        for done in pool.imap_unordered(_one, cases, chunksize=4):
            yield Verdict(**done)  # type: ignore[arg-type]
