"""What a scale asks of the person at the till while it weighs ("keep the
item still", "nothing on the scale"), kept apart from the device so the CLI
and the Qt app each show it their own way."""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

from pos.messages import Message, env_lang


class ScaleHandler(Protocol):
    def show(self, message: Message) -> None:
        """Called from the waiting caller's thread, at each change of state."""
        ...


class CliScaleHandler:
    """Prompts on stderr in the reader's language; stdout keeps the result."""

    def __init__(self, out: TextIO | None = None, lang: str | None = None) -> None:
        self.out = out or sys.stderr
        self.lang = lang or env_lang()

    def show(self, message: Message) -> None:
        self.out.write(message.render(self.lang) + "\n")
        self.out.flush()
