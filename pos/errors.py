"""Errors a person can act on: what went wrong, and what to do about it."""

from __future__ import annotations


class PosError(Exception):
    """Base for every error the core reports to a cashier, manager or operator.

    `remedy` says what to do next; `exit_code` is what the CLI exits with.
    """

    exit_code = 1

    def __init__(self, message: str, remedy: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

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
