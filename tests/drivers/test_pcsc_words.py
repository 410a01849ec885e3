"""The card reader's failures are catalogue messages: `pos card readers`
without the smart-card service says so, and what to do, in the reader's
language."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.pcsc.reader import (
    CardMute,
    CardRemoved,
    CardWaitStopped,
    NoCardInserted,
    PcscUnavailable,
    ReaderNotFound,
    ReaderUnplugged,
)
from pos.errors import PosError

CJK = re.compile(r"[\u4e00-\u9fff]")
POS = str(Path(sys.executable).with_name("pos"))


@pytest.mark.parametrize(
    "error",
    [
        PcscUnavailable("0x8010001D"),
        ReaderNotFound("ACS", ["vpcd 0", "vpcd 1"]),
        ReaderNotFound("ACS", []),
        ReaderUnplugged("vpcd 0"),
        CardWaitStopped(),
        CardRemoved(),
        NoCardInserted(),
        CardMute("0x80100066"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_reader_failure_is_said_in_either_language(error: PosError) -> None:
    assert error.msg is not None
    zh, en = error.render("zh_CN"), error.render("en")
    assert CJK.search(zh) and not CJK.search(en)


@pytest.mark.parametrize(
    ("lang", "words"),
    [("zh_CN", "智能卡服务未运行"), ("en", "smart-card service is not running")],
)
def test_readers_without_the_service_says_what_to_start(
    tmp_path: Path, lang: str, words: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POS_")}
    # A socket nobody listens on: this test never touches the shared vpcd.
    env |= {"PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm"), "POS_LANG": lang}
    done = subprocess.run(
        [POS, "--data-dir", str(tmp_path / "t"), "card", "readers"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and words in done.stderr and "pcscd" in done.stderr
    assert "Traceback" not in done.stderr
