"""zh_CN and en, switchable at run time. The sources are Qt translation files
(pos_zh_CN.ts, pos_en.ts) compiled to .qm with pyside6-lrelease; screens take
their words from tr() and redraw on QEvent.LanguageChange."""

from __future__ import annotations

from pathlib import Path

from ui.qt import QApplication, QTranslator

HERE = Path(__file__).parent
LOCALES = ("zh_CN", "en")


class Language:
    def __init__(self, app: QApplication, locale: str = "zh_CN") -> None:
        self._app = app
        self._translator: QTranslator | None = None
        self.locale = ""
        self.set(locale)

    def set(self, locale: str) -> None:
        if locale not in LOCALES:
            raise ValueError(f"no translation for {locale}; choose one of {', '.join(LOCALES)}")
        if locale == self.locale:
            return
        if self._translator is not None:
            self._app.removeTranslator(self._translator)
            self._translator = None
        translator = QTranslator(self._app)
        qm = HERE / f"pos_{locale}.qm"
        if not translator.load(str(qm)):
            raise FileNotFoundError(f"{qm} is missing: run `pyside6-lrelease ui/i18n/*.ts`")
        self._app.installTranslator(translator)
        self._translator = translator
        self.locale = locale

    def toggle(self) -> str:
        self.set("en" if self.locale.startswith("zh") else "zh_CN")
        return self.locale

    @property
    def zh(self) -> bool:
        return self.locale.startswith("zh")
