"""Words a person reads, and the error that carries them. Flows speak through
catalogue `Message`s (pos/messages); the UI renders them in its language.

`Text` is not for words written in code (tests/pos/messages forbids a literal
one): it carries words that arrive as data in both languages, such as a
payment channel's notice, a risk rule's reason as the rule store or the
journal holds it, or a name as it is stored. Both render with
`.render(lang)`, so a screen does not care which it got."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from pos.errors import NotAllowed, PosError
from pos.failures import describe
from pos.messages import Message, msg


@dataclass(frozen=True, slots=True)
class Text:
    zh: str
    en: str

    def get(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en

    def render(self, lang: str) -> str:
        return self.get(lang)

    def to_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


Said: TypeAlias = Text | Message

NO_TEXT = Text("", "")


def message_of(exc: BaseException) -> Said:
    """What to show for an error: its own words when it has them (a flow's
    refusal, a payment notice, a catalogue message), otherwise what the one
    error boundary says about it (storage, OS, a fault)."""
    if isinstance(exc, FlowError):
        return exc.text
    note = getattr(exc, "notice", None)  # a payment notice: a catalogue code
    if note is not None and hasattr(note, "zh") and hasattr(note, "en"):
        return Text(str(note.zh), str(note.en))
    if isinstance(exc, PosError) and exc.msg is not None:
        return exc.msg
    if isinstance(exc, PosError):
        said = f"{exc.message} {exc.remedy}".strip()
        return Text(said, said)
    failure = describe(exc)
    return failure.message if failure.message is not None else msg("common.unexpected")


def said_or_none(said: Said) -> Said | None:
    """`said`, or None when it says nothing (an empty pair)."""
    if isinstance(said, Text) and not (said.zh or said.en):
        return None
    return said


class FlowError(NotAllowed):
    """A step the flow refuses, with the reason for the person."""

    def __init__(self, text: Said) -> None:
        if isinstance(text, Message):
            super().__init__(text)
        else:
            super().__init__(text.en)  # words a channel or rule sent, as data
        self.text: Said = text
