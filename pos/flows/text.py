"""Words a person reads, in both languages the store speaks, and the error that
carries them. Flows speak to people through these; the UI picks the language."""

from __future__ import annotations

from dataclasses import dataclass

from pos.errors import NotAllowed, PosError


@dataclass(frozen=True, slots=True)
class Text:
    zh: str
    en: str

    def get(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en

    def to_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


NO_TEXT = Text("", "")


def text_of(exc: BaseException) -> Text:
    """What to show for an error: its bilingual text when it has one, otherwise
    the core's message and remedy (the core's errors are English)."""
    if isinstance(exc, FlowError):
        return exc.text
    note = getattr(exc, "notice", None)  # the payment channels' bilingual catalogue
    if note is not None and hasattr(note, "zh") and hasattr(note, "en"):
        return Text(str(note.zh), str(note.en))
    if isinstance(exc, PosError) and exc.msg is not None:
        return Text(exc.msg.render("zh_CN"), exc.msg.render("en"))
    if isinstance(exc, PosError):
        msg = f"{exc.message} {exc.remedy}".strip()
        return Text(msg, msg)
    return Text("出错了，请重试或呼叫店长。", "Something went wrong. Try again or call a manager.")


class FlowError(NotAllowed):
    """A step the flow refuses, with the reason in zh and en."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.en)
        self.text = text
