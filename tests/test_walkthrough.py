"""The README's main job, the headless walk through the spine, runs clean and
tells the tampered copy from the intact one, naming the sequence number."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pos.messages import catalogue

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_walkthrough_runs_end_to_end(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "POS_DEMO_OUT": str(tmp_path),
        "POS_DATA_DIR": str(tmp_path / "till"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    run = subprocess.run(
        ["bash", str(ROOT / "scripts" / "walkthrough.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    # The walk runs in the default language, Chinese: verify speaks it too.
    for code in ("verify.ok", "verify.failed", "verify.entry"):
        assert catalogue()[code]["zh_CN"].split("{")[0] in out, code
    assert "(verify exited non-zero, as it must)" in out
    for ext in ("csv", "xlsx", "pdf"):
        [f] = tmp_path.glob(f"daily-*.{ext}")
        assert f.stat().st_size > 500
    # The four sales printed as text, and the refunded one shown again.
    assert out.count("小票号") == 5
