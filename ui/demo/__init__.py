"""`pos demo`: the app with embedded defaults. A fresh demo data dir with the
demo catalog, a manager and a cashier, the sandbox Alipay and WeChat Pay
gateways on loopback, the card tender (or why it is unavailable). With
--kiosk the self-service kiosk; with --headless --screenshots DIR a scripted
sale through every tender, offscreen, saving a screenshot of each screen."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pos.clock import Clock, SystemClock
from pos.flows.core import CardPromptRelay
from pos.flows.kiosk import KioskConfig
from pos.services.catalog_import import import_products, read_catalog_file
from pos.services.terminal_services import TerminalServices
from pos.store.terminal import Terminal, provision
from ui.demo.accounts import CASHIER, MANAGER
from ui.demo.card import CardSetup, DemoShopper, demo_card
from ui.demo.sync import SyncDemo, start_sync_demo
from ui.wiring import Runtime, open_runtime

ROOT = Path(__file__).resolve().parents[2]
DEMO_CATALOG = ROOT / "assets" / "demo_catalog.csv"


def fresh_data_dir(base: Path | None = None) -> Path:
    parent = base or Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="pos-demo-", dir=parent))


def provision_demo(data_dir: Path, clock: Clock | None = None) -> None:
    """A demo terminal: demo keystore (says so), the demo catalog, two users."""
    clock = clock or SystemClock()
    terminal = provision(data_dir, "demo", "S-DEMO", "T-DEMO-1", clock)
    with TerminalServices.wrap(terminal) as services:
        t = services.terminal
        products = read_catalog_file(DEMO_CATALOG, "CNY")
        import_products(t.db, t.journal, clock, products, replace=True, source="demo")
        for u in (MANAGER, CASHIER):
            services.users.add(u.user_id, u.name, u.role, u.pin)


@dataclass
class DemoParts:
    """What the demo runs beside the till, set up on its opened store."""

    sandbox: Any = None
    card: CardSetup | None = None
    sync: SyncDemo | None = None


def demo_runtime(
    data_dir: Path,
    clock: Clock | None = None,
    with_card: bool = True,
    with_sync: bool = True,
    **sandbox_options: Any,
) -> Runtime:
    """Provision (when new) and open the demo terminal as a till, with the
    sandbox gateways, the emulated card at the virtual reader, a local central
    server and a loopback printer."""
    from drivers.printer.emulator import EmulatedPrinter
    from drivers.virtualcard.profiles import UNIONPAY
    from pos.payments.sandbox.keys import write_terminal_config
    from pos.payments.sandbox.server import SandboxServer

    clock = clock or SystemClock()
    if not (data_dir / "terminal.json").exists():
        provision_demo(data_dir, clock)
    options: dict[str, Any] = {"poll_interval": 1.0}
    options.update(sandbox_options)
    relay = CardPromptRelay()
    shopper = DemoShopper(relay, UNIONPAY)
    parts = DemoParts()

    def prepare(terminal: Terminal) -> list[Callable[[], None]]:
        sandbox = SandboxServer(data_dir, clock=clock).start()
        closers: list[Callable[[], None]] = [sandbox.stop]
        parts.sandbox = sandbox
        write_terminal_config(data_dir, sandbox.keys.terminal_config(sandbox.base_url, **options))
        if with_card:
            parts.card = demo_card(terminal, shopper)
            closers.extend(parts.card.closers)
        if with_sync:
            parts.sync = start_sync_demo(terminal, data_dir)
            closers.extend(parts.sync.closers)
        return closers

    printer = EmulatedPrinter().start()
    try:
        runtime = open_runtime(
            data_dir,
            clock,
            prepare=prepare,
            device_handler=shopper if with_card else None,
            card_prompts=relay,
            printer_url=printer.address,
        )
    except BaseException:
        printer.stop()
        raise
    runtime.on_close(printer.stop)
    runtime.printing.emulator = printer
    runtime.sandbox, runtime.sandbox_url = parts.sandbox, parts.sandbox.base_url
    runtime.sync = parts.sync
    card = parts.card
    if card is not None:
        router = runtime.till.router
        if "card" in router.channel_names:
            card.channel = router.channel("card")
        elif card.why_not is not None:
            runtime.core.unavailable = {**runtime.core.unavailable, "card": card.why_not}
    runtime.card = card
    return runtime


def run_demo(
    data_dir: Path | None,
    kiosk: bool,
    headless: bool,
    screenshots: Path | None,
    locale: str,
    say: Callable[[str], None] = print,
) -> int:
    if headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        headless = True
    data_dir = data_dir or fresh_data_dir()
    say(f"demo data dir: {data_dir}")
    say("DEMO KEYSTORE: keys are in a file in the data dir, for the demo only.")
    say(f"manager PIN {MANAGER.pin} ({MANAGER.name}), cashier PIN {CASHIER.pin} ({CASHIER.name})")
    runtime = demo_runtime(data_dir)
    say(f"sandbox gateways on {runtime.sandbox_url}")
    if runtime.sync is not None:
        say(
            f"central server on {runtime.sync.url}"
            if runtime.sync.url
            else f"sync not running: {runtime.sync.why_not.render('en') if runtime.sync.why_not else ''}"
        )
    from ui.app import App

    # Headless, the kiosk's idle timer is short so the reset shows in seconds.
    config = KioskConfig(idle_timeout_s=8, warning_s=5, thanks_s=3) if headless else None
    app = App(runtime, locale, kiosk, terminal_name="T-DEMO-1", kiosk_config=config)
    if not headless:
        return app.run()
    from ui.demo.script import DemoScript

    out = screenshots or data_dir / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app.recover()
    try:
        report = DemoScript(app, out, say).run()
    finally:
        app.close()
    say(report)
    return 0
