"""The composition root's plumbing: open the terminal's services, its payment
router (with the sandbox gateways for the demo), the risk check, and hand the
screens one `Services`. Everything that is started here is stopped by
`Runtime.close()`."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos.clock import Clock, SystemClock
from pos.flows.backoffice import Backoffice
from pos.flows.core import CardPromptRelay, CoreServices
from pos.flows.text import Text
from pos.services.terminal_services import TerminalServices
from ui.context import Services

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    terminal: TerminalServices
    core: CoreServices
    services: Services
    sandbox_url: str = ""
    sandbox: Any = None  # the demo's SandboxServer, for its "shopper scans now" control
    card: Any = None  # the demo's CardSetup: acquirer and the shopper's emulated card
    sync: Any = None  # the demo's SyncDemo: central server and sync worker
    printing: Any = None  # ui.printing.Printing: the receipt printer, when there is one
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except Exception as exc:  # shutting down: log it and go on closing the rest
                log.warning("while closing: %s", exc)
        self._closers.clear()


def card_unavailable() -> Text | None:
    """Why there is no card tender: no reader service, no reader, or no card
    section in payments.json."""
    if shutil.which("pcscd") is None:
        return Text(
            "没有读卡服务（pcscd 未安装）。", "No card reader service (pcscd is not installed)."
        )
    try:
        from smartcard.System import readers

        if not readers():
            return Text("没有连接读卡器。", "No card reader is connected.")
    except Exception as exc:  # pcscd not running, or pyscard missing
        return Text(f"读卡器不可用：{exc}", f"The card reader is unavailable: {exc}")
    return Text(
        "银行卡通道未配置（payments.json 的 card 部分，见 docs/card.md）。",
        "The card channel is not set up (the card section of payments.json; docs/card.md).",
    )


def open_runtime(
    data_dir: Path,
    clock: Clock | None = None,
    with_sandbox: bool = False,
    sandbox_options: Mapping[str, Any] | None = None,
    with_card_demo: bool = False,
    with_sync_demo: bool = False,
) -> Runtime:
    """Open the provisioned terminal in `data_dir` with every layer that is set up."""
    clock = clock or SystemClock()
    terminal = TerminalServices.open(data_dir, clock)
    closers: list[Callable[[], None]] = [terminal.close]
    sandbox_url = ""
    sandbox: Any = None
    try:
        if with_sandbox:
            from pos.payments.sandbox.keys import write_terminal_config
            from pos.payments.sandbox.server import SandboxServer

            sandbox = SandboxServer(data_dir, clock=clock).start()
            closers.append(sandbox.stop)
            sandbox_url = sandbox.base_url
            config = sandbox.keys.terminal_config(sandbox.base_url, **(sandbox_options or {}))
            write_terminal_config(data_dir, config)
        relay = CardPromptRelay()
        card_handler: Any = relay  # the reader's prompts go to the payment dialog
        card = None
        card_why: Text | None = None
        if with_card_demo:
            from ui.card import demo_card

            card = demo_card(terminal.terminal, relay)
            closers.extend(card.closers)
            if card.shopper is not None:
                card_handler = card.shopper
            card_why = card.why_not
        sync = None
        if with_sync_demo:
            from ui.sync_demo import start_sync_demo

            sync = start_sync_demo(terminal.terminal, data_dir)
            closers.extend(sync.closers)
        from ui.printing import open_printing

        printing = open_printing(terminal, demo=with_sandbox)
        closers.extend(printing.closers)
        router, problems = _router(terminal, card_handler)
        if card is not None and "card" in router.channel_names:
            card.channel = router.channel("card")
        unavailable = {
            name: Text(f"未配置：{why}", f"Not set up: {why}") for name, why in problems.items()
        }
        if "card" not in router.channel_names:
            why = card_why or card_unavailable()
            if why is not None:
                unavailable["card"] = why
        core = CoreServices(terminal, router, None, unavailable, card_prompts=relay)
        office = Backoffice(terminal, router)
        services = Services(
            auth=core,
            catalog=core,
            checkout=core,
            payments=core,
            refunds=core,
            dayclose=office,
            review=office,
            clock=clock,
        )
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    return Runtime(terminal, core, services, sandbox_url, sandbox, card, sync, printing, closers)


def _router(terminal: TerminalServices, card_handler: Any):  # type: ignore[no-untyped-def]
    """The router over every channel the terminal has configured: the
    `pos.payment_channels` entry points, except that the card channel is built
    here with the app's reader handler (the entry point's speaks to a console)."""
    from importlib.metadata import entry_points

    from pos.payments.intents import IntentStore
    from pos.payments.registry import GROUP, KeystoreSecrets, load_channels
    from pos.payments.router import PaymentRouter
    from ui.card import configured_card

    t = terminal.terminal
    secrets = KeystoreSecrets(t.keystore)
    others = {ep.name for ep in entry_points(group=GROUP)} - {"card"}
    channels, problems = load_channels(t.data_dir, t.clock, secrets, only=others)
    card, why = configured_card(t, card_handler, secrets)
    if card is not None:
        channels["card"] = card
    elif why is not None:
        problems["card"] = why
    intents = IntentStore(t.db, t.clock, t.journal)
    return PaymentRouter(intents, channels, t.clock), problems
