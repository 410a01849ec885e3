"""The sandbox acquirer as a service for the demo and `pos card acquirer`:
its RSA key kept in <data dir>/sandbox/ (so offline approvals sealed before a
restart still open after it), the card section of payments.json pointed at
it, and a loopback HTTP control endpoint for the scenario, like the QR
sandbox's:

  GET  /_card/state      messages seen, whether the host is up
  POST /_card/fault      {"kind", "op"?, "times"?, "after"?, "delay"?}
  POST /_card/account    {"pan", "balance_minor", "blocked"?}   (test cards only)
  POST /_card/down       {"seconds"?: s}  stop answering (0: until /_card/up)
  POST /_card/up
  POST /_card/reset      forget faults and the message log
"""

from __future__ import annotations

import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pos.clock import Clock
from pos.digits import is_digits
from pos.messages import msg
from pos.payments import rsa
from pos.payments.card.sandbox_acquirer import SandboxAcquirer
from pos.payments.card.settings import card_section
from pos.payments.sandbox.keys import write_terminal_config
from pos.payments.sandbox.state import Fault

log = logging.getLogger(__name__)

SANDBOX_DIR = "sandbox"
PRIVATE_KEY_FILE = "card-acquirer-private.pem"
PUBLIC_KEY_FILE = "card-acquirer-public.pem"
INFO_FILE = "card-acquirer.json"
_MAX_BODY = 4096


def acquirer_key(data_dir: Path) -> rsa.PrivateKey:
    """The sandbox acquirer's key, made on first use and kept (0600)."""
    directory = data_dir / SANDBOX_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PRIVATE_KEY_FILE
    if path.exists():
        return rsa.load_private_key(rsa.read_key_file(path, msg("payments.key.sandbox_acquirer")))
    key = rsa.generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(rsa.private_pem(key))
    (directory / PUBLIC_KEY_FILE).write_bytes(rsa.public_pem(key.public_key()))
    return key


class SandboxAcquirerService:
    def __init__(self, data_dir: Path, clock: Clock, port: int = 0, control_port: int = 0) -> None:
        self.data_dir = data_dir
        self.acquirer = SandboxAcquirer(clock, private_key=acquirer_key(data_dir), port=port)
        self._control = ThreadingHTTPServer(("127.0.0.1", control_port), _handler(self))
        self._control.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._back: threading.Timer | None = None

    @property
    def control_url(self) -> str:
        host, port = self._control.server_address[:2]
        return f"http://{host!s}:{port}/_card"

    def info(self) -> dict[str, Any]:
        host, port = self.acquirer.address
        return {"host": host, "port": port, "control": self.control_url}

    def start(self, configure: bool = True) -> SandboxAcquirerService:
        self.acquirer.start()
        self._thread = threading.Thread(
            target=self._control.serve_forever, name="card-sandbox-control", daemon=True
        )
        self._thread.start()
        (self.data_dir / SANDBOX_DIR / INFO_FILE).write_text(json.dumps(self.info()))
        if configure:
            host, port = self.acquirer.address
            key_file = f"{SANDBOX_DIR}/{PUBLIC_KEY_FILE}"
            write_terminal_config(self.data_dir, {"card": card_section(host, port, key_file)})
        return self

    def stop(self) -> None:
        with self._lock:
            if self._back is not None:
                self._back.cancel()
        self._control.shutdown()
        self._control.server_close()
        self.acquirer.stop()

    # -- scenario -------------------------------------------------------------

    def down(self, seconds: float = 0.0) -> None:
        """The host stops answering (connections refused), for `seconds` or until `up`."""
        with self._lock:
            if self.acquirer.running:
                self.acquirer.stop()
            if self._back is not None:
                self._back.cancel()
            self._back = threading.Timer(seconds, self.up) if seconds > 0 else None
            if self._back is not None:
                self._back.daemon = True
                self._back.start()

    def up(self) -> None:
        with self._lock:
            if not self.acquirer.running:
                self.acquirer.start()

    def control(self, method: str, action: str, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        a = self.acquirer
        if method == "GET" and action == "state":
            return 200, {"messages": list(a.state.messages), "up": a.running}
        if method != "POST":
            return 404, {"error": f"no control action {method} {action}"}
        if action == "fault":
            fault = Fault.from_dict(doc)
            a.add_fault(fault.kind, fault.op, fault.times, fault.after, fault.delay)
        elif action == "account":
            pan = str(doc["pan"])
            if not is_digits(pan):
                raise ValueError("pan must be digits")
            a.set_account(pan, int(doc["balance_minor"]), bool(doc.get("blocked", False)))
        elif action == "down":
            self.down(float(doc.get("seconds", 0.0)))
        elif action == "up":
            self.up()
        elif action == "reset":
            a.reset()
        else:
            return 404, {"error": f"no control action {action}"}
        return 200, {"ok": True}


def _handler(service: SandboxAcquirerService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            action = self.path.removeprefix("/_card/").strip("/")
            try:
                if length > _MAX_BODY:
                    raise ValueError("body too large")
                doc = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(doc, dict):
                    raise ValueError("body must be a JSON object")
                status, reply = service.control(method, action, doc)
            except (ValueError, KeyError, TypeError) as exc:
                status, reply = 400, {"error": str(exc)}
            body = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("card sandbox control: " + format, *args)

    return Handler
