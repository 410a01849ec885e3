from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(os.environ.get("POS_BENCH_OUT", ROOT / "out" / "bench"))


@pytest.fixture
def record():
    """Write a benchmark's figures to out/bench/NAME.json and print them."""

    def _record(name: str, figures: dict[str, Any]) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
        print(f"\n[{name}] " + json.dumps(figures, ensure_ascii=False))

    return _record
