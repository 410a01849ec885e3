"""Coverage-guided fuzzing of the TLV parser with atheris, in a child process
(atheris takes over the interpreter's exit)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("atheris")

FUZZER = textwrap.dedent(
    """
    import sys
    import atheris
    with atheris.instrument_imports():
        from pos.payments.card.tlv import TlvError, parse, flatten
        from drivers.emv.dol import parse_dol

    def one(data: bytes) -> None:
        try:
            flatten(parse(data))
        except TlvError:
            pass
        try:
            parse_dol(data)
        except TlvError:
            pass

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
    """
)


def test_coverage_guided_fuzzing_finds_no_crash(tmp_path):
    script = tmp_path / "fuzz_tlv.py"
    script.write_text(FUZZER)
    proc = subprocess.run(
        [sys.executable, str(script), "-runs=20000", "-max_len=256", "-seed=1"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Done 20000 runs" in proc.stderr
