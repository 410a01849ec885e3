"""The command line's start-up: `pos --help` and a whole cash sale (`pos
sale ... --pay cash`, opening the encrypted store, the sale committed and its
receipt printed), each as a fresh process, against a bare interpreter started
the same way in the same run. A command imports only what it uses.

Whether the bytecode and the message catalogue's cache were compiled at
install (scripts/install.sh) is written next to the figures: without them,
with PYTHONDONTWRITEBYTECODE set, every command compiles ~300 modules and
parses the catalogue's TOML (about +0.1 s)."""

from __future__ import annotations

import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.pos.store.till_store import build

ROOT = Path(__file__).resolve().parents[2]
RUNS = 9


def _compiled_at_install() -> dict[str, bool]:
    core = ROOT / "pos" / "flows" / "core.py"
    pyc = Path(importlib.util.cache_from_source(str(core)))
    cache = ROOT / "pos" / "messages" / "catalogue" / "__pycache__" / "common.json"
    return {
        "bytecode_present": pyc.exists() and pyc.stat().st_mtime >= core.stat().st_mtime,
        "catalogue_cache_present": cache.exists(),
    }


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run. The CPU time (user + system of the child)
    barely moves with the load of a shared machine; the wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return took, cpu


def _median(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    _run(argv, env)  # warm the file cache
    runs = [_run(argv, env) for _ in range(RUNS)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def test_pos_help_and_a_cash_sale_start_like_a_small_script(tmp_path: Path, record) -> None:
    data = tmp_path / "till"
    build(data, sales=0)  # the demo catalog, cashier c1 (PIN 2580)
    env = {**os.environ, "POS_DATA_DIR": str(data), "POS_CASHIER_PIN": "2580", "POS_LANG": "en"}
    pos = [sys.executable, "-m", "pos.cli.main"]
    bare, bare_cpu = _median([sys.executable, "-c", "pass"], env)
    help_s, help_cpu = _median([*pos, "--help"], env)
    sale = [*pos, "sale", "--cashier", "c1", "--item", "DRK-001", "--pay", "cash"]
    sale_s, sale_cpu = _median(sale, env)
    figures = {
        "bare_interpreter_s": round(bare, 4),
        "pos_help_s": round(help_s, 4),
        "cash_sale_s": round(sale_s, 4),
        "bare_interpreter_cpu_s": round(bare_cpu, 4),
        "pos_help_cpu_s": round(help_cpu, 4),
        "cash_sale_cpu_s": round(sale_cpu, 4),
        "pos_help_x_bare": round(help_s / bare, 1),
        "cash_sale_x_bare": round(sale_s / bare, 1),
        "cash_sale_cpu_x_bare_cpu": round(sale_cpu / bare_cpu, 1),
        "load_1m": round(os.getloadavg()[0], 2),
        **_compiled_at_install(),
    }
    record("cli_startup", figures)
    # Issue 11's budget is wall time: 0.3 s / 0.4 s, checked only when the
    # machine is quiet (a loaded one slows file and fsync work more than a bare
    # start). The ratios are recorded beside it: the bare start on this machine
    # went from ~0.03 s to ~0.02 s, so a fixed ratio would move the goal.
    if os.getloadavg()[0] < (os.cpu_count() or 1):
        assert help_s < 0.3 and help_s / bare < 10
        assert sale_s < 0.4 and sale_s / bare < 21


def test_a_cash_sale_with_keys_in_the_os_keyring_costs_little_more_than_the_demo_keystore(
    tmp_path: Path, record, real_keyring
) -> None:
    """The same sale against a till whose keys are in the session's Secret
    Service (gnome-keyring) and against the demo keystore, in the same run."""
    from pos.store import keys
    from pos.store.anchor import KEYRING_ANCHOR

    demo, real = tmp_path / "demo", tmp_path / "keyring"
    terminal_id = f"T-bench-{os.getpid()}"
    build(demo, sales=0)
    build(real, sales=0, keystore="keyring", terminal_id=terminal_id)
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(POS_CASHIER_PIN="2580", POS_LANG="en")
    sale = [sys.executable, "-m", "pos.cli.main", "sale", "--cashier", "c1"]
    sale += ["--item", "DRK-001", "--pay", "cash"]
    try:
        demo_s, demo_cpu = _median(sale, {**env, "POS_DATA_DIR": str(demo)})
        real_s, real_cpu = _median(sale, {**env, "POS_DATA_DIR": str(real)})
    finally:
        store = keys.KeyringKeyStore(terminal_id, real_keyring)
        for name in (*keys.ALL_KEYS, KEYRING_ANCHOR):
            store.delete(name)
    figures = {
        "demo_keystore_sale_s": round(demo_s, 4),
        "keyring_sale_s": round(real_s, 4),
        "demo_keystore_sale_cpu_s": round(demo_cpu, 4),
        "keyring_sale_cpu_s": round(real_cpu, 4),
        "keyring_extra_cpu_s": round(real_cpu - demo_cpu, 4),
        "keyring_x_demo": round(real_s / demo_s, 2),
        "keyring_cpu_x_demo_cpu": round(real_cpu / demo_cpu, 2),
        "load_1m": round(os.getloadavg()[0], 2),
        **_compiled_at_install(),
    }
    record("cli_keyring_sale", figures)
    if os.getloadavg()[0] < (os.cpu_count() or 1):
        # Before the direct Secret Service and the single key entry: 1.43-1.55;
        # after, 1.16-1.32.
        assert real_cpu / demo_cpu < 1.38
