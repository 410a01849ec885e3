"""What every command handler gets: where the data is, how to print, and the
terminal opened on demand."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pos.messages import Message, env_lang


def default_data_dir() -> Path:
    env = os.environ.get("POS_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs  # only when POS_DATA_DIR does not say

    return Path(platformdirs.user_data_dir("store-checkout", appauthor=False))


@dataclass
class CliContext:
    data_dir: Path
    as_json: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    # Reads a PIN for a named user; replaced in tests and by --pin-stdin.
    read_pin: Callable[[str], str] | None = None
    # Said with every JSON object printed (the demo keystore's warning).
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # The reader's language: --lang, else POS_LANG / the locale.
    lang: str = field(default_factory=env_lang)

    def emit(self, data: Any, text: str | Message | Callable[[], str]) -> None:
        """Print `data` as JSON under --json, otherwise the human text (a
        catalogue message in the reader's language)."""
        if self.as_json:
            if self.warnings and isinstance(data, dict):
                data = {**data, "warnings": self.warnings}
            self.out.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
        else:
            self.out.write(self._words(text() if callable(text) else text).rstrip("\n") + "\n")

    def warn(self, text: str | Message) -> None:
        self.err.write(self._words(text).rstrip("\n") + "\n")

    def _words(self, text: str | Message) -> str:
        return text.render(self.lang) if isinstance(text, Message) else text
