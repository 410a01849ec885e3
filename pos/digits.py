"""ASCII digits. str.isdigit() also accepts '²' and Arabic-Indic digits, which
int() then refuses or reads as other numbers; what comes from a gateway, a
card, a scanner or a keyboard is checked with this before int()."""

from __future__ import annotations


def is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
