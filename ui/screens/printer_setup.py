"""The manager's Printer tab: where the receipt printer is, its paper width
and the receipt's language; saving prints a test page, and the tab says what
really happened to it (printed, or what is wrong with the printer)."""

from __future__ import annotations

from pos.flows.text import Said
from pos.receipt import WIDTHS
from ui.context import UiContext
from ui.ops import Scope
from ui.printing import Printing
from ui.qt import QComboBox, QEvent, QFormLayout, QLineEdit, QVBoxLayout, QWidget
from ui.widgets import MessageLine, PrinterBanner, PrintWatch, button, label, watch_print


class PrinterTab(QWidget):
    def __init__(self, ctx: UiContext, scope: Scope, printing: Printing | None) -> None:
        super().__init__()
        self._ctx = ctx
        self._scope = scope
        self.printing = printing
        self.watch: PrintWatch | None = None
        self.current = label("", "muted")
        self.address = QLineEdit()
        self.width_box = QComboBox()
        for w in WIDTHS:
            self.width_box.addItem(str(w), w)
        self.locale_box = QComboBox()
        self.locale_box.addItem("", "zh")
        self.locale_box.addItem("", "en")
        for box in (self.width_box, self.locale_box):
            box.setMinimumHeight(48)
        self.address_name = label()
        self.width_name = label()
        self.locale_name = label()
        self.save_button = button("", "primary", 64)
        self.save_button.clicked.connect(self._save)
        self.banner = PrinterBanner(ctx)
        self.message = MessageLine(ctx)
        form = QFormLayout()
        form.addRow(self.address_name, self.address)
        form.addRow(self.width_name, self.width_box)
        form.addRow(self.locale_name, self.locale_box)
        lay = QVBoxLayout(self)
        lay.addWidget(self.banner)
        lay.addWidget(self.current)
        lay.addLayout(form)
        lay.addWidget(self.save_button)
        lay.addWidget(self.message)
        lay.addStretch(1)
        if printing is not None:
            settings = printing.settings
            self.address.setText(settings.url or printing.url)
            self.width_box.setCurrentIndex(max(0, self.width_box.findData(settings.width)))
            self.locale_box.setCurrentIndex(max(0, self.locale_box.findData(settings.locale)))
        self.save_button.setEnabled(printing is not None)
        self.retranslate()

    def retranslate(self) -> None:
        t = self._ctx.t
        self.address_name.setText(t("screens.printer.address"))
        self.width_name.setText(t("screens.printer.width"))
        self.locale_name.setText(t("screens.printer.language"))
        self.locale_box.setItemText(0, t("screens.printer.lang_zh"))
        self.locale_box.setItemText(1, t("screens.printer.lang_en"))
        self.save_button.setText(t("screens.printer.save_and_test"))
        url = self.printing.url if self.printing is not None else ""
        self.current.setText(
            t("screens.printer.current", url=url) if url else t("screens.printer.none")
        )
        self.banner.retranslate()
        self.message.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _save(self) -> None:
        printing = self.printing
        if printing is None:
            return
        url = self.address.text().strip()
        width = int(self.width_box.currentData())
        locale = str(self.locale_box.currentData())

        def follow(job_id: str) -> None:
            self.retranslate()

            def said(text: Said | None) -> None:
                self.message.show_text(text)

            self.watch = watch_print(
                printing,
                job_id,
                self,
                self.banner,
                said,
                "screens.printer.test_printed",
                "screens.printer.testing",
            )

        self._ctx.ops.run(
            "printer set-up",
            lambda op: printing.set_up(url, width, locale),
            self._scope,
            follow,
            self.message.show_error,
            lane="io",
        )
