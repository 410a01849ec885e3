"""The command line's one error boundary, driven as a person drives it: the real
`pos` executable in a subprocess on a provisioned terminal. Every case from
issue 11's traceback list ends in a message in the reader's language, with a
next step, and the documented exit code; never a traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.failures import describe
from pos.messages import msg

ROOT = Path(__file__).resolve().parents[3]
POS = str(Path(sys.executable).with_name("pos"))
CJK = re.compile(r"[\u4e00-\u9fff]")
LANGS = ("zh_CN", "en")
PINS = {"POS_CASHIER_PIN": "7391", "POS_APPROVER_PIN": "2580"}


def pos(
    data: Path,
    *args: str,
    lang: str = "zh_CN",
    env: dict[str, str] | None = None,
    as_user: int | None = None,
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("POS_")}
    base.update({"POS_DATA_DIR": str(data), "POS_LANG": lang, **PINS, **(env or {})})
    cmd = [POS, *args]
    if as_user is not None:
        cmd = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", *cmd]
    return subprocess.run(
        cmd, capture_output=True, text=True, env=base, cwd=data.parent, timeout=120
    )


def assert_clean_failure(
    run: subprocess.CompletedProcess[str], code: int, lang: str, *words: str
) -> str:
    """Exit `code`, a one-message stderr in `lang` holding `words`, no traceback."""
    err = run.stderr
    assert run.returncode == code, (run.returncode, err, run.stdout)
    assert "Traceback" not in err and "Traceback" not in run.stdout, err
    text = err.replace(msg("store.demo_warning").render(lang), "")
    if lang == "zh_CN":
        assert "错误：" in text and CJK.search(text.split("错误：", 1)[1]), text
    else:
        assert "error: " in text and not CJK.search(text), text
    for word in words:
        assert word in text, (word, text)
    return text


@pytest.fixture(scope="module")
def till(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A terminal set up the way the README does it, with one cash sale."""
    data = tmp_path_factory.mktemp("boundary") / "till"
    steps = [
        (["init", "--store-id", "S001", "--terminal-id", "T01", "--demo-keystore"], {}),
        (
            ["user", "add", "boss", "--name", "Wang Li", "--role", "manager"],
            {"POS_NEW_PIN": "2580"},
        ),
        (
            ["user", "add", "c1", "--name", "Zhang Wei", "--approver", "boss"],
            {"POS_NEW_PIN": "7391"},
        ),
        (["catalog", "import", str(ROOT / "assets" / "demo_catalog.csv")], {}),
        (["--json", "sale", "--cashier", "c1", "--item", "DRK-001:2", "--pay", "cash:10"], {}),
    ]
    for args, env in steps:
        run = pos(data, *args, env=env)
        assert run.returncode == 0, (args, run.stderr)
    return data


@pytest.fixture
def receipt_no(till: Path) -> str:
    run = pos(till, "--json", "sale", "--cashier", "c1", "--item", "DRK-002", "--pay", "cash")
    assert run.returncode == 0, run.stderr
    return str(json.loads(run.stdout)["receipt_no"])


@pytest.fixture
def copy_of(till: Path, tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "copy" / "till"
    shutil.copytree(till, data)
    yield data
    for root, dirs, files in os.walk(data.parent):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o700)


@pytest.mark.parametrize("lang", LANGS)
def test_an_unknown_item_says_what_is_wrong_and_what_to_do_and_exits_2(
    till: Path, lang: str
) -> None:
    run = pos(till, "sale", "--cashier", "c1", "--item", "NOPE-999", "--pay", "cash", lang=lang)
    words = ("NOPE-999", "请重新扫描") if lang == "zh_CN" else ("NOPE-999", "Scan the item again")
    assert_clean_failure(run, 2, lang, *words)


@pytest.mark.parametrize("lang", LANGS)
def test_a_cash_amount_that_is_not_a_number_exits_2(till: Path, lang: str) -> None:
    run = pos(till, "sale", "--cashier", "c1", "--item", "DRK-001", "--pay", "cash:abc", lang=lang)
    assert_clean_failure(run, 2, lang, "abc", "12.50")


@pytest.mark.parametrize("lang", LANGS)
def test_a_discount_that_is_not_a_number_exits_2(till: Path, lang: str) -> None:
    run = pos(
        till,
        "sale",
        "--cashier",
        "c1",
        "--item",
        "DRK-001",
        "--discount",
        "abc",
        "--approver",
        "boss",
        "--pay",
        "cash",
        lang=lang,
    )
    assert_clean_failure(run, 2, lang, "abc")


@pytest.mark.parametrize("lang", LANGS)
def test_a_refund_of_a_tenth_of_a_cent_exits_2(till: Path, receipt_no: str, lang: str) -> None:
    run = pos(
        till,
        "refund",
        receipt_no,
        "--cashier",
        "c1",
        "--approver",
        "boss",
        "--amount",
        "1.001",
        lang=lang,
    )
    assert_clean_failure(run, 2, lang, "1.001", "1.00")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--item", "DRK-001", "--pay", "cash:abc"], ["abc"]),
        (["--item", "DRK-001", "--discount", "abc", "--pay", "cash"], ["abc"]),
        (["--item", "DRK-001", "--line-discount", "2:10%", "--pay", "cash"], ["2"]),
        (["--item", "DRK-001", "--line-discount", "one:10%", "--pay", "cash"], ["one:10%"]),
        (["--item", "DRK-001:x:y", "--pay", "cash"], ["DRK-001:x:y"]),
    ],
)
@pytest.mark.parametrize("lang", LANGS)
def test_a_refused_sale_leaves_no_order_behind(
    copy_of: Path, args: list[str], words: list[str], lang: str
) -> None:
    """Every argument of `pos sale` is read before an order is opened: a
    refusal stores nothing, open or voided."""
    before = _orders(copy_of)
    run = pos(copy_of, "sale", "--cashier", "c1", *args, lang=lang)
    assert_clean_failure(run, 2, lang, *words)
    assert _orders(copy_of) == before


def _orders(data: Path) -> int:
    return _open_orders(data, "1 = 1")


def _open_orders(data: Path, where: str = "state = 'open'") -> int:
    from pos.clock import SystemClock
    from pos.store.terminal import open_terminal

    terminal = open_terminal(data, SystemClock())
    try:
        with terminal.db.read() as conn:
            row = conn.execute(f"SELECT count(*) FROM orders WHERE {where}").fetchone()
        return int(row[0])
    finally:
        terminal.close()


@pytest.mark.parametrize("lang", LANGS)
def test_a_catalog_row_with_another_products_barcode_is_refused_by_name(
    till: Path, tmp_path: Path, lang: str
) -> None:
    csv = tmp_path / "new.csv"
    csv.write_text(
        "sku,barcodes,name_zh,name_en,price,tax_class,active,sold_by_weight\n"
        "NEW-001,6901234000023,新水,New water,2.00,standard,1,0\n",
        encoding="utf-8",
    )
    run = pos(till, "catalog", "import", str(csv), lang=lang)
    name = "农夫山泉" if lang == "zh_CN" else "Nongfu Spring"
    assert_clean_failure(run, 2, lang, "6901234000023", "NEW-001", "DRK-002", name, "--replace")
    search = pos(till, "--json", "catalog", "search", "NEW-001")
    assert "NEW-001" not in search.stdout


@pytest.mark.parametrize("lang", LANGS)
def test_a_report_written_to_a_folder_names_the_folder_and_exits_5(
    till: Path, tmp_path: Path, lang: str
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    run = pos(till, "report", "daily", "--out", str(folder), lang=lang)
    assert_clean_failure(run, 5, lang, str(folder), "report.csv")
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to drop root")
@pytest.mark.parametrize("lang", LANGS)
def test_a_read_only_data_directory_asks_for_write_permission_and_exits_5(
    copy_of: Path, lang: str
) -> None:
    for root, dirs, files in os.walk(copy_of.parent):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o555)
        for name in files:
            os.chmod(os.path.join(root, name), 0o444)
    os.chmod(copy_of.parent, 0o555)
    # root may write anywhere; the person at the till is an ordinary user.
    user = 65534 if os.geteuid() == 0 else None
    run = pos(
        copy_of,
        "sale",
        "--cashier",
        "c1",
        "--item",
        "DRK-001",
        "--pay",
        "cash",
        lang=lang,
        as_user=user,
    )
    words = ("写权限",) if lang == "zh_CN" else ("write",)
    assert_clean_failure(run, 5, lang, *words)


@pytest.mark.parametrize(
    ("lang", "damage"),
    [
        ("en", "truncated"),
        ("zh_CN", "truncated"),
        ("en", "scrambled"),
        ("zh_CN", "scrambled"),
    ],
)
def test_a_damaged_database_points_to_the_backup_and_exits_6(
    copy_of: Path, lang: str, damage: str
) -> None:
    # Pages cut off or failing their HMAC are damage the open's page check
    # finds (6), with the way back.
    db = copy_of / "terminal.db"
    raw = db.read_bytes()
    if damage == "truncated":
        db.write_bytes(raw[: len(raw) // 3])
    else:
        db.write_bytes(raw[:12288] + bytes(8192) + raw[20480:])
    for args in (
        ["sale", "--cashier", "c1", "--item", "DRK-001", "--pay", "cash"],
        ["report", "x"],
    ):
        run = pos(copy_of, *args, lang=lang)
        assert_clean_failure(run, 6, lang, "pos backup restore")


def test_json_errors_carry_the_code_the_values_and_both_texts(till: Path, receipt_no: str) -> None:
    run = pos(
        till,
        "--json",
        "refund",
        receipt_no,
        "--cashier",
        "c1",
        "--approver",
        "boss",
        "--amount",
        "1.001",
        lang="en",
    )
    assert run.returncode == 2, run.stderr
    out = json.loads(run.stdout)
    assert out["code"] == "money.too_many_decimals"
    assert out["params"] == {"text": "1.001", "places": 2, "currency": "CNY"}
    assert CJK.search(out["zh_CN"]) and out["en"].startswith('"1.001" has more than 2')
    assert out["exit_code"] == 2 and out["error"] == out["en"]


def test_lang_option_wins_over_pos_lang(till: Path) -> None:
    run = pos(
        till,
        "--lang",
        "en",
        "sale",
        "--cashier",
        "c1",
        "--item",
        "NOPE-999",
        "--pay",
        "cash",
        lang="zh_CN",
    )
    assert_clean_failure(run, 2, "en", "NOPE-999")


def test_an_unexpected_fault_names_who_to_call_and_the_log_and_exits_1(tmp_path: Path) -> None:
    failure = describe(RuntimeError("boom"), "/var/log/pos-cli.log")
    assert failure.exit_code == 1 and not failure.expected
    assert "/var/log/pos-cli.log" in failure.render("en") and "support" in failure.render("en")
    assert "技术支持" in failure.render("zh_CN") and "boom" not in failure.render("zh_CN")


def test_a_full_disk_is_a_storage_problem_with_a_remedy() -> None:
    import errno

    failure = describe(OSError(errno.ENOSPC, "No space left on device", "/data/terminal.db"))
    assert failure.exit_code == 5
    assert failure.message == msg("common.storage.disk_full")
    assert "Free some space" in failure.render("en") and "磁盘已满" in failure.render("zh_CN")


@pytest.mark.parametrize("lang", LANGS)
def test_the_issues_command_as_typed_is_answered_in_the_readers_language(
    till: Path, lang: str
) -> None:
    """`pos sale --item NOPE-999 --pay cash`, exactly as a new user types it."""
    run = pos(till, "sale", "--item", "NOPE-999", "--pay", "cash", lang=lang)
    words = ("--cashier", "--help") if lang == "zh_CN" else ("needs --cashier", "--help")
    assert_clean_failure(run, 2, lang, *words)


def test_a_mistyped_command_under_json_is_a_catalogue_error(till: Path) -> None:
    run = pos(till, "--json", "frob", lang="en")
    assert run.returncode == 2
    out = json.loads(run.stdout)
    assert out["code"] == "cli.args.choice" and "'frob'" in out["en"] and CJK.search(out["zh_CN"])


@pytest.mark.parametrize(("lang", "words"), [("zh_CN", "请联系技术支持"), ("en", "Call support")])
def test_a_fault_is_logged_with_its_traceback_and_said_without_it(
    tmp_path: Path, lang: str, words: str
) -> None:
    import io

    from pos.cli.context import CliContext
    from pos.cli.main import _report_failure

    err = io.StringIO()
    ctx = CliContext(data_dir=tmp_path / "till", err=err)
    try:
        raise RuntimeError("the inside story")
    except RuntimeError as exc:
        code = _report_failure(exc, ctx, lang)
    log = tmp_path / "till" / "logs" / "pos-cli.log"
    assert code == 1
    assert words in err.getvalue() and str(log) in err.getvalue()
    assert "Traceback" not in err.getvalue() and "the inside story" not in err.getvalue()
    assert "Traceback" in log.read_text() and "the inside story" in log.read_text()


@pytest.mark.parametrize("lang", LANGS)
def test_what_a_command_prints_is_in_the_readers_language(till: Path, lang: str) -> None:
    """Not only errors: a command's own output and its warnings are rendered
    in the reader's language."""
    run = pos(till, "catalog", "search", "zzzqqq", lang=lang)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == msg("cli.catalog.nothing_found").render(lang)
    assert msg("store.demo_warning").render(lang) in run.stderr or not run.stderr.strip()
