"""`pos init`, `pos journal verify`, `pos backup` as a person runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pos.store import keys
from pos.store.db import connect
from pos.store.terminal import DB_FILE
from tests.pos.store.store_files import dir_snapshot

REPO = Path(__file__).resolve().parents[3]


def pos(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "POS_DATA_DIR"}
    env["POS_LANG"] = "en"  # the assertions read the English texts
    return subprocess.run(
        [sys.executable, "-m", "pos.cli.main", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli") / "terminal"
    result = pos(data_dir, "init", "--store-id", "S001", "--demo-keystore")
    assert result.returncode == 0, result.stderr
    assert "DEMO KEYSTORE" in result.stderr
    return data_dir


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def test_init_prints_the_terminal_and_never_a_key(demo_dir: Path) -> None:
    result = pos(demo_dir, "--json", "journal", "verify")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    store = keys.DemoKeyStore(demo_dir)
    for name in keys.ALL_KEYS:
        secret = store.get(name)
        assert secret is not None
        assert secret.hex() not in result.stdout + result.stderr


def test_every_command_on_a_demo_keystore_warns(demo_dir: Path) -> None:
    assert "DEMO KEYSTORE" in pos(demo_dir, "journal", "verify").stderr


def test_tampered_database_fails_verify_naming_the_sequence_number(
    demo_dir: Path, tmp_path: Path
) -> None:
    data_dir = _copy(demo_dir, tmp_path / "t")
    key = keys.DemoKeyStore(data_dir).get(keys.DB_KEY)
    assert key is not None
    conn = connect(data_dir / DB_FILE, key, "rw", 1000)
    conn.execute('UPDATE journal SET payload = \'{"store_id":"EVIL"}\' WHERE seq = 1')
    conn.close()
    result = pos(data_dir, "journal", "verify")
    assert result.returncode == 6
    assert "first bad entry: seq 1" in result.stdout
    as_json = json.loads(pos(data_dir, "--json", "journal", "verify").stdout)
    assert as_json["first_bad_seq"] == 1 and as_json["ok"] is False


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("text", "text file"),
        ("truncate", "whole number"),
        ("empty", "is empty"),
        ("wrong-key", "key does not open"),
        ("missing-key", "is not in the demo keystore"),
        ("no-terminal", "no terminal is provisioned"),
    ],
)
def test_bad_files_and_keys_exit_nonzero_with_a_remedy_and_no_traceback(
    demo_dir: Path, tmp_path: Path, damage: str, words: str
) -> None:
    data_dir = _copy(demo_dir, tmp_path / "t")
    db = data_dir / DB_FILE
    store = keys.DemoKeyStore(data_dir)
    if damage == "text":
        db.write_text("hello\n")
    elif damage == "truncate":
        db.write_bytes(db.read_bytes()[:5000])
    elif damage == "empty":
        db.write_bytes(b"")
    elif damage == "wrong-key":
        store.set(keys.DB_KEY, keys.new_secret())
    elif damage == "missing-key":
        store.delete(keys.DB_KEY)
    elif damage == "no-terminal":
        data_dir = tmp_path / "empty"
        data_dir.mkdir()
    before = dir_snapshot(data_dir)
    result = pos(data_dir, "journal", "verify")
    assert result.returncode == 5, result.stdout + result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    # What went wrong, then what to do (in the message or on its own line).
    assert any(w in result.stderr for w in ("Restore", "restore", "pos init", "keyring", "Check"))
    assert dir_snapshot(data_dir) == before


def test_backup_create_verify_restore_from_the_command_line(demo_dir: Path, tmp_path: Path) -> None:
    data_dir = _copy(demo_dir, tmp_path / "t")
    out = tmp_path / "backup.db"
    assert pos(data_dir, "backup", "create", "--out", str(out)).returncode == 0
    verified = pos(data_dir, "--json", "backup", "verify", str(out))
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"] is True
    refused = pos(data_dir, "backup", "restore", str(out))
    assert refused.returncode == 5 and "--force" in refused.stderr
    restored = pos(data_dir, "backup", "restore", str(out), "--force")
    assert restored.returncode == 0, restored.stderr
    assert pos(data_dir, "journal", "verify").returncode == 0


def test_backup_reports_are_said_in_the_readers_language(demo_dir: Path, tmp_path: Path) -> None:
    data_dir = _copy(demo_dir, tmp_path / "t")
    out = tmp_path / "backup.db"
    written = pos(data_dir, "--lang", "zh_CN", "backup", "create", "--out", str(out))
    assert written.returncode == 0 and "备份已写入" in written.stdout, written.stdout
    zh = pos(data_dir, "--lang", "zh_CN", "backup", "verify", str(out))
    assert zh.returncode == 0 and "完好" in zh.stdout and "数据库结构版本" in zh.stdout
    assert "OK" not in zh.stdout and "schema" not in zh.stdout
    en = pos(data_dir, "backup", "verify", str(out))
    assert en.returncode == 0 and ": OK" in en.stdout and "schema version" in en.stdout
    restored = pos(data_dir, "--lang", "zh_CN", "backup", "restore", str(out), "--force")
    assert restored.returncode == 0 and "原数据库已保留为" in restored.stdout, restored.stdout
