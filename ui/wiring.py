"""The Qt app's side of the assembly: open the till (pos.app.open_till, the
one composition root) with the app's card-reader relay as its device handler,
the receipt printer from the till's printer settings, and hand the screens
one `Services`. Everything that is started here is stopped by
`Runtime.close()`. The demo (ui.demo) adds its sandboxes through
`open_runtime`'s `prepare`; nothing here knows about them."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos.app import Till, TillOptions, open_till
from pos.app.till import Prepare
from pos.clock import Clock, SystemClock
from pos.flows.backoffice import Backoffice
from pos.flows.badges import BadgeDesk
from pos.flows.core import CardPromptRelay, CoreServices
from pos.flows.text import Said
from pos.messages import msg
from pos.payments.registry import NOT_CONFIGURED
from pos.services.terminal_services import TerminalServices
from ui.context import Services

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    till: Till
    core: CoreServices
    services: Services
    printing: Any = None  # ui.printing.Printing: the receipt printer, when there is one
    card_prompts: CardPromptRelay = field(default_factory=CardPromptRelay)
    # What the demo (ui.demo) runs beside the till, for its script and tests.
    sandbox_url: str = ""
    sandbox: Any = None
    card: Any = None
    sync: Any = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def terminal(self) -> TerminalServices:
        return self.till.services

    def on_close(self, closer: Callable[[], None]) -> None:
        self._closers.append(closer)

    def close(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except Exception as exc:  # shutting down: log it and go on closing the rest
                log.warning("while closing: %s", exc)
        self._closers.clear()


def card_unavailable() -> Said | None:
    """Why there is no card tender: no reader service, no reader, or no card
    section in payments.json."""
    if shutil.which("pcscd") is None:
        return msg("counter.card.no_pcscd")
    try:
        from smartcard.System import readers

        if not readers():
            return msg("counter.card.no_reader")
    except Exception as exc:  # pcscd not running, or pyscard missing
        return msg("counter.card.reader_unavailable", error=str(exc))
    return msg("counter.card.not_set_up")


def chain_alerts_of(till: Till) -> Callable[[], Any]:
    """The store's chain risk alerts from the server (asked off the UI thread)."""

    def fetch() -> Any:
        from sync.client import store_alerts

        return store_alerts(till.terminal)

    return fetch


def open_runtime(
    data_dir: Path,
    clock: Clock | None = None,
    *,
    prepare: Prepare | None = None,
    device_handler: Any = None,
    card_prompts: CardPromptRelay | None = None,
    printer_url: str = "",
) -> Runtime:
    """Open the provisioned terminal in `data_dir` as a till, with every layer
    that is set up, and the services the screens drive. The reader's prompts
    go to `card_prompts` (the payment dialog) unless the demo puts its own
    `device_handler` (the emulated shopper) in front of it."""
    clock = clock or SystemClock()
    relay = card_prompts or CardPromptRelay()
    till = open_till(
        data_dir,
        TillOptions(
            clock=clock,
            device_handler=device_handler or relay,
            background=True,
            prepare=prepare,
        ),
    )
    closers: list[Callable[[], None]] = [till.close]
    try:
        from ui.printing import open_printing

        printing = open_printing(till, printer_url)
        closers.extend(printing.closers)
        # A channel the store never set up is not offered at all; one that is
        # set up but cannot start is greyed with why.
        unavailable: dict[str, Said] = {
            name: msg("counter.channel_not_set_up", why=why)
            for name, why in till.problems.items()
            if why != NOT_CONFIGURED
        }
        if "card" not in till.router.channel_names and till.problems.get("card") in (
            None,
            NOT_CONFIGURED,
        ):
            why = card_unavailable()
            if why is not None:
                unavailable["card"] = why
        core = CoreServices.on(till, unavailable, card_prompts=relay)
        from drivers.tower_lamp import open_tower_lamp

        core.lamp = open_tower_lamp(data_dir)
        office = Backoffice(till.services, till.router)
        services = Services(
            auth=core,
            catalog=core,
            checkout=core,
            payments=core,
            refunds=core,
            dayclose=office,
            review=office,
            clock=clock,
            badges=BadgeDesk.if_installed(till.services),
            chain_alerts=chain_alerts_of(till),
        )
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    return Runtime(till, core, services, printing, relay, _closers=closers)
