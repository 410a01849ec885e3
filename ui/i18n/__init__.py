"""zh_CN and en, switchable at run time. Every word comes from the one message
catalogue (pos/messages); there are no Qt translation files. Switching sends
QEvent.LanguageChange through the application, and each screen redraws its
words from the catalogue in `Language.locale`."""

from __future__ import annotations

from ui.qt import QApplication, QCoreApplication, QEvent

LOCALES = ("zh_CN", "en")
# The switch shows the other language by its own name (an endonym, the same
# in every catalogue language, so it is not a catalogue text).
_SWITCH_TO = {"zh_CN": "English", "en": "中文"}


class Language:
    def __init__(self, app: QApplication, locale: str = "zh_CN") -> None:
        self._app = app
        self.locale = ""
        self.set(locale)

    def set(self, locale: str) -> None:
        if locale not in LOCALES:
            raise ValueError(f"no translation for {locale}; choose one of {', '.join(LOCALES)}")
        if locale == self.locale:
            return
        first = not self.locale
        self.locale = locale
        # For the error boundary, which speaks for no screen in particular.
        self._app.setProperty("pos_locale", locale)
        if not first:
            # What installing a QTranslator would do: every widget's changeEvent
            # sees LanguageChange and redraws.
            QCoreApplication.sendEvent(self._app, QEvent(QEvent.Type.LanguageChange))

    def toggle(self) -> str:
        self.set("en" if self.locale.startswith("zh") else "zh_CN")
        return self.locale

    @property
    def switch_label(self) -> str:
        return _SWITCH_TO[self.locale]

    @property
    def zh(self) -> bool:
        return self.locale.startswith("zh")
