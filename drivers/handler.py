"""What a card reader asks of the person at the terminal, kept apart from the
device so the CLI and the Qt app each answer it their own way (the Qt
handler lives in ui/)."""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

from pos.digits import is_digits


class CardHandler(Protocol):
    def show_message(self, text: str) -> None: ...

    def insert_card(self, reader: str, amount_text: str) -> None:
        """Asks for the card; returns at once (the reader waits for it)."""
        ...

    def choose_application(self, options: list[str]) -> int | None:
        """Index of the application the cardholder chose, or None to cancel."""
        ...

    def remove_card(self, text: str) -> None: ...

    def cancelled(self) -> bool:
        """Polled while waiting for a card; True stops the wait."""
        ...


class CliCardHandler:
    """Prompts on stderr (stdout stays for results and --json). With no
    terminal to ask, the highest-priority application is taken, as EMV
    allows when the cardholder cannot choose."""

    def __init__(
        self,
        out: TextIO | None = None,
        inp: TextIO | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.out = out or sys.stderr
        self.inp = inp or sys.stdin
        self.interactive = self.inp.isatty() if interactive is None else interactive

    def show_message(self, text: str) -> None:
        self.out.write(text.rstrip("\n") + "\n")
        self.out.flush()

    def insert_card(self, reader: str, amount_text: str) -> None:
        self.show_message(f"Insert card in '{reader}' to pay {amount_text}")

    def choose_application(self, options: list[str]) -> int | None:
        if not self.interactive:
            self.show_message(f"Using {options[0]}")
            return 0
        for i, name in enumerate(options, 1):
            self.show_message(f"  {i}. {name}")
        while True:
            self.out.write("Choose the card application (number, empty to cancel): ")
            self.out.flush()
            line = self.inp.readline().strip()
            if not line:
                return None
            if is_digits(line) and 1 <= int(line) <= len(options):
                return int(line) - 1
            self.show_message(f"Type a number from 1 to {len(options)}.")

    def remove_card(self, text: str) -> None:
        self.show_message(text)

    def cancelled(self) -> bool:
        return False
