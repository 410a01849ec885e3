"""The till: the terminal's store and journal, the checkout with its risk
gate and live connectivity, the payment router over the registry's channels
(each given the till's environment), the receipt printer's settings, and the
services that run beside a sale (sync, when the terminal is enrolled).

`open_till` is the only place these are put together. The Qt counter, the
kiosk and the command line each open one till and drive the flows on it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pos.app.connectivity import Connectivity
from pos.app.offline_risk import OfflineRisk
from pos.clock import Clock, SystemClock
from pos.payments.registry import open_router
from pos.payments.router import PaymentRouter
from pos.services.checkout import CheckoutService
from pos.services.receipts import PrinterSettings, printer_settings
from pos.services.terminal_services import TerminalServices
from pos.services.users import UserService
from pos.store.terminal import Terminal, open_terminal

log = logging.getLogger(__name__)

# Services that run beside the sale, from the layers above the core (the
# sync worker): `name = module:start`, where `start(till)` returns the
# running service, or None when it has nothing to do on this terminal.
TILL_SERVICES = "pos.till_services"


class TillService(Protocol):
    def nudge(self) -> None:
        """Work soon (a sale was made)."""
        ...

    def stop(self) -> None: ...


Closer = Callable[[], None]
# What the demo sets up on the opened store before the channels are read
# (sandbox gateways, the emulated card, a local server); returns closers.
Prepare = Callable[[Terminal], Sequence[Closer]]


@dataclass(frozen=True)
class TillOptions:
    clock: Clock | None = None
    # What a device (the card reader) asks of the person at the terminal: the
    # app's dialog relay; None lets each driver use its console handler.
    device_handler: Any = None
    # Only these payment channels (the command line loads what it pays with);
    # None: every channel the terminal has set up.
    channels: Iterable[str] | None = None
    # Start the services that run beside the sale (sync). A one-shot command
    # does not; the app does.
    background: bool = False
    prepare: Prepare | None = None


@dataclass
class Till:
    services: TerminalServices
    router: PaymentRouter
    # Channels the terminal names but could not open, with why.
    problems: dict[str, str]
    connectivity: Connectivity
    printer: PrinterSettings
    _closers: list[Closer] = field(default_factory=list)
    running: dict[str, TillService] = field(default_factory=dict)

    @property
    def terminal(self) -> Terminal:
        return self.services.terminal

    @property
    def checkout(self) -> CheckoutService:
        return self.services.checkout

    @property
    def users(self) -> UserService:
        return self.services.users

    @property
    def data_dir(self) -> Path:
        return self.terminal.data_dir

    def on_close(self, closer: Closer) -> None:
        self._closers.append(closer)

    def start_services(self) -> None:
        """Start every registered till service that applies to this terminal."""
        from importlib.metadata import entry_points  # scanning costs ~20 ms: only here

        for ep in sorted(entry_points(group=TILL_SERVICES), key=lambda e: e.name):
            try:
                service = ep.load()(self)
            except ImportError as exc:  # that layer is not installed here
                log.info("till service %s unavailable: %s", ep.name, exc)
                continue
            if service is not None:
                self.running[ep.name] = service
                self._closers.append(service.stop)

    def nudge(self) -> None:
        """A sale was made: the services beside it (sync) work soon."""
        for service in self.running.values():
            service.nudge()

    def close(self) -> None:
        """Stop what was started, newest first, then close the store."""
        while self._closers:
            close = self._closers.pop()
            try:
                close()
            except Exception as exc:  # shutting down: note it and close the rest
                log.warning("while closing the till: %s", exc)

    def __enter__(self) -> Till:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_till(data_dir: Path, options: TillOptions | None = None) -> Till:
    """Open the provisioned terminal in `data_dir` as a till."""
    options = options or TillOptions()
    clock = options.clock or SystemClock()
    # The app (background services) checks a changed store's pages off the
    # UI thread, sales held until they pass; a command checks them first.
    terminal = open_terminal(
        data_dir, clock, pages="background" if options.background else "if_changed"
    )
    closers: list[Closer] = [terminal.close]
    try:
        if options.prepare is not None:
            closers.extend(options.prepare(terminal))
        connectivity = Connectivity()
        services = TerminalServices.wrap(terminal, is_online=connectivity)
        router, problems = open_router(
            terminal,
            only=options.channels,
            offline_risk=OfflineRisk(services.checkout),
            handler=options.device_handler,
        )
        closers.append(router.close)  # before the store: late answers stop writing
        connectivity.watch_channels(lambda: _network_channels_up(router))
        closers.extend(_notifications(terminal.data_dir, router))
        till = Till(
            services, router, problems, connectivity, printer_settings(terminal.db), closers
        )
        if options.background:
            till.start_services()
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    return till


def _notifications(data_dir: Path, router: PaymentRouter) -> list[Closer]:
    """With a "notify" section in payments.json, the providers' messages wake
    a payment's wait between queries (the payment is still confirmed by query)."""
    if not any(router.channel(n).capabilities().needs_network for n in router.channel_names):
        return []
    from pos.payments.notify import receiver_from_config

    receiver = receiver_from_config(data_dir, router)
    if receiver is None:
        return []
    receiver.start()
    return [receiver.stop]


def _network_channels_up(router: PaymentRouter) -> bool:
    """False only when the till has network channels and every one of them is
    cut off by its breaker (the gateways are unreachable)."""
    network = [
        name for name in router.channel_names if router.channel(name).capabilities().needs_network
    ]
    if not network:
        return True
    return any(router.breaker(name).available() for name in network)
