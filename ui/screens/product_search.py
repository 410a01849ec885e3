"""Search as you type at the counter: a name, pinyin or code keyed by hand.
Hits are fetched off the UI thread and an older query's hits are dropped;
tapping a hit, or Enter on the first, chooses it."""

from __future__ import annotations

from collections.abc import Callable

from pos.flows.views import ProductHit
from ui.context import UiContext
from ui.ops import Scope
from ui.qt import QLineEdit, QListWidget, QListWidgetItem, Qt, QTimer, QVBoxLayout, QWidget, Signal

# Hits shown for a query: what fits above the cart.
HITS = 12


class ProductSearch(QWidget):
    chosen = Signal(str)  # the chosen product's SKU

    def __init__(
        self,
        ctx: UiContext,
        find: Callable[[str, int], list[ProductHit]],
        failed: Callable[[BaseException], None],
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self._find = find
        self._failed = failed
        self.scope = Scope("search")
        self.line = QLineEdit()
        self.line.textEdited.connect(self._later)
        self.line.returnPressed.connect(self._choose_first)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)  # one query per pause in typing
        self._timer.timeout.connect(self._now)
        self.hits = QListWidget()
        self.hits.setMaximumHeight(180)
        self.hits.setVisible(False)
        self.hits.itemClicked.connect(self._choose)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.line)
        lay.addWidget(self.hits)

    def retranslate(self) -> None:
        self.line.setPlaceholderText(self.ctx.t("counter.scan_or_type_a_name"))

    def search_for(self, text: str) -> None:
        """As if `text` were typed (the demo's walkthrough)."""
        self.line.setText(text)
        self._later(text)

    def clear(self) -> None:
        self.line.clear()
        self.hits.setVisible(False)

    def _later(self, _text: str) -> None:
        self.scope.leave()  # an older query's hits are no longer wanted
        self._timer.start()

    def _now(self) -> None:
        text = self.line.text()
        self.ctx.ops.run(
            "search", lambda op: self._find(text, HITS), self.scope, self._show, self._failed
        )

    def _show(self, hits: list[ProductHit]) -> None:
        self.hits.clear()
        for h in hits:
            item = QListWidgetItem(
                f"{h.name(self.ctx.language.locale)}   {self.ctx.money(h.unit_price)}   {h.sku}"
            )
            item.setData(Qt.ItemDataRole.UserRole, h.sku)
            self.hits.addItem(item)
        self.hits.setVisible(bool(hits))

    def _choose(self, item: QListWidgetItem) -> None:
        self.chosen.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    def _choose_first(self) -> None:
        if self.hits.count():
            self._choose(self.hits.item(0))
