"""Card and reader events from pyscard's monitors, turned into plain
callbacks (the UI forwards them to its thread by signal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smartcard.CardMonitoring import CardMonitor, CardObserver
from smartcard.ReaderMonitoring import ReaderMonitor, ReaderObserver


class _Cards(CardObserver):  # type: ignore[misc]
    def __init__(self, on_insert: Callable[[str, bytes], None], on_remove: Callable[[str], None]):
        super().__init__()
        self._on_insert, self._on_remove = on_insert, on_remove

    def update(self, observable: Any, handlers: tuple[list[Any], list[Any]]) -> None:
        added, removed = handlers
        for card in added:
            self._on_insert(str(card.reader), bytes(card.atr))
        for card in removed:
            self._on_remove(str(card.reader))


class _Readers(ReaderObserver):  # type: ignore[misc]
    def __init__(self, on_change: Callable[[list[str], list[str]], None]):
        super().__init__()
        self._on_change = on_change

    def update(self, observable: Any, handlers: tuple[list[Any], list[Any]]) -> None:
        added, removed = handlers
        self._on_change([str(r) for r in added], [str(r) for r in removed])


class CardEvents:
    """Watches every reader; callbacks run on pyscard's monitor threads."""

    def __init__(
        self,
        on_insert: Callable[[str, bytes], None],
        on_remove: Callable[[str], None],
        on_readers: Callable[[list[str], list[str]], None] = lambda added, removed: None,
    ) -> None:
        self._cards = _Cards(on_insert, on_remove)
        self._readers = _Readers(on_readers)
        self._card_monitor = CardMonitor()
        self._reader_monitor = ReaderMonitor()

    def start(self) -> None:
        self._reader_monitor.addObserver(self._readers)
        self._card_monitor.addObserver(self._cards)

    def stop(self) -> None:
        self._card_monitor.deleteObserver(self._cards)
        self._reader_monitor.deleteObserver(self._readers)

    def __enter__(self) -> CardEvents:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
