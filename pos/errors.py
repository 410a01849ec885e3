"""Errors a person can act on: what went wrong, and what to do about it."""

from __future__ import annotations

from pos.messages import Message


class PosError(Exception):
    """Base for every error the core reports to a cashier, manager or operator.

    Raised with a catalogue `Message` (code and parameters, rendered in the
    reader's language by the front end), or, in code not yet moved to the
    catalogue, with English text and a `remedy`. `exit_code` is what the CLI
    exits with.
    """

    exit_code = 1

    def __init__(self, message: str | Message, remedy: str = "") -> None:
        self.msg: Message | None = message if isinstance(message, Message) else None
        text = message.render("en") if isinstance(message, Message) else message
        super().__init__(text)
        self.message = text
        self.remedy = remedy

    @property
    def code(self) -> str:
        return self.msg.code if self.msg is not None else type(self).__name__

    def render(self, lang: str) -> str:
        """The whole text for a person, with the next step, in `lang`."""
        if self.msg is not None:
            return self.msg.render(lang)
        return f"{self.message} {self.remedy}".strip()

    def __str__(self) -> str:
        return f"{self.message}\n{self.remedy}" if self.remedy else self.message


class InvalidInput(PosError):
    """Bad input from a person or a file: a barcode, a quantity, a CSV row."""

    exit_code = 2


class NotAllowed(PosError):
    """An action refused by the rules: an illegal order transition, a missing approval."""

    exit_code = 3


class NotFound(PosError):
    exit_code = 4
