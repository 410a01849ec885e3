"""Command-line help is catalogue text: every `help=` / `description=` /
`epilog=` of a command names a `clihelp.` code, and `--help` prints it in the
reader's language, argparse's own headings included."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pos.messages import has

ROOT = Path(__file__).resolve().parents[3]
# Every module that builds a parser: new ones are covered as they are added.
CLI_MODULES = sorted(
    p
    for pattern in (
        "pos/**/*.py",
        "ui/**/*.py",
        "drivers/**/*.py",
        "sync/**/*.py",
        "wallets/**/*.py",
    )
    for p in ROOT.glob(pattern)
    if "add_argument" in p.read_text(encoding="utf-8")
)
HELP_WORDS = {"help", "description", "epilog"}
CJK = re.compile(r"[\u4e00-\u9fff]")
BIN = Path(sys.executable).parent


def _problems(node: ast.expr, where: str) -> list[str]:
    """A help text must be a known code, a code built on `clihelp.`, or no literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [] if has(node.value) and node.value.startswith("clihelp.") else [where]
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        ok = isinstance(first, ast.Constant) and str(first.value).startswith("clihelp.")
        return [] if ok else [where]
    if isinstance(node, ast.BinOp):
        return _problems(node.left, where) + _problems(node.right, where)
    return []


def help_problems_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        for kw in node.keywords:
            if kw.arg in HELP_WORDS:
                found += [
                    f"{w}: {kw.arg}= is not a clihelp code" for w in _problems(kw.value, where)
                ]
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name == "coded" and node.args:
            found += [f"{w}: coded() of an unknown code" for w in _problems(node.args[0], where)]
    return found


def test_the_check_covers_every_command_module() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in CLI_MODULES}
    for must in ("pos/cli/checkout.py", "sync/server/main.py", "wallets/cli.py", "drivers/cli.py"):
        assert must in names, must


@pytest.mark.parametrize("path", CLI_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_literal_help_text_in_a_command(path: Path) -> None:
    assert help_problems_in(path) == []


def test_the_check_finds_literal_help_text(tmp_path: Path) -> None:
    sample = ROOT / "tests" / "pos" / "messages" / "_help_sample.py"
    sample.write_text(
        'p.add_argument("--x", help="the thing")\n'
        'p.add_parser("y", help="clihelp.no.such.code", description=f"about {y}")\n'
        'p.add_argument("--z", help="clihelp.main.json", epilog="see " + ", ".join(k))\n'
        'p.add_argument("--w", help=coded("clihelp.nope", n=1))\n'
        'p.add_argument("--v", help=coded("clihelp.drivers.port", env=E, port=P))\n'
    )
    try:
        found = help_problems_in(sample)
    finally:
        sample.unlink()
    assert [f.split(":")[1] for f in found] == ["1", "2", "2", "3", "4"], found


def _run(prog: str, *args: str, lang: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POS_", "LC_", "LANG"))}
    env["POS_LANG"] = lang
    done = subprocess.run(
        [str(BIN / prog), *args], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    return done.stdout


@pytest.mark.parametrize(
    ("prog", "args", "zh", "en"),
    [
        ("pos", ("sale", "--help"), "收银员编号", "cashier id"),
        ("pos", ("--help",), "门店收银终端", "Store checkout terminal"),
        ("pos", ("member", "--help"), "会员的储值余额和积分", "a member's stored value"),
        ("pos-server", ("--help",), "门店收银中心服务器", "Store checkout central server"),
        ("pos-server", ("audit", "--help"), "起始序号", "first sequence number"),
    ],
)
def test_help_is_printed_in_the_readers_language(
    prog: str, args: tuple[str, ...], zh: str, en: str
) -> None:
    chinese = _run(prog, *args, lang="zh_CN")
    assert zh in chinese and en not in chinese
    assert chinese.startswith("用法：") and "选项" in chinese and "显示本帮助并退出" in chinese
    assert "usage:" not in chinese and "options:" not in chinese
    english = _run(prog, *args, lang="en")
    assert en in english and not CJK.search(english)
    assert english.startswith("usage: ") and "show this help message and exit" in english


def test_the_lang_option_wins_over_the_environment() -> None:
    out = _run("pos", "--lang", "en", "sale", "--help", lang="zh_CN")
    assert "cashier id" in out and not CJK.search(out)


def test_chinese_help_is_wrapped_on_the_columns_it_takes() -> None:
    import unicodedata

    env = {k: v for k, v in os.environ.items() if not k.startswith(("POS_", "LC_", "LANG"))}
    env |= {"POS_LANG": "zh_CN", "COLUMNS": "60"}
    out = subprocess.run(
        [str(BIN / "pos-server"), "--help"], capture_output=True, text=True, env=env, check=True
    ).stdout
    wide = [line for line in out.splitlines() if CJK.search(line)]
    assert len(wide) > 10
    for line in wide:
        columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
        assert columns <= 60 + 2, line  # a closing mark may hang past the edge
        assert line.strip()[0] not in "，。、；：）", line
