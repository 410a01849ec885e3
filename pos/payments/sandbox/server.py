"""The sandbox HTTP server: one loopback ThreadingHTTPServer carrying both
gateways (Alipay at /gateway.do, WeChat Pay at /v3/... /pay/... /secapi/...),
the network faults of each trade's scenario, bill downloads, notifications
to the terminal (sandbox/notify.py), and a control endpoint:

  GET  /_sandbox/trades             every trade (JSON)
  POST /_sandbox/scenario           {"out_trade_no"?: .., "next"?: true, pay_after, confirm,
                                     outcome, decline, faults: [{kind, op, times, after, delay}]}
  POST /_sandbox/scan               {"out_trade_no"?: .., "platform"?: ..} shopper scans now
  POST /_sandbox/reset
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pos.clock import Clock, SystemClock
from pos.payments.httpd import QuietHandler
from pos.payments.sandbox.alipay_gw import AlipayGateway
from pos.payments.sandbox.bills import alipay_bill_zip
from pos.payments.sandbox.keys import SandboxKeys
from pos.payments.sandbox.notify import Notifier
from pos.payments.sandbox.state import Fault, SandboxState
from pos.payments.sandbox.wechat_gw import WechatGateway
from pos.payments.sandbox.wire import Call, Reply

log = logging.getLogger(__name__)


class SandboxServer:
    def __init__(
        self, data_dir: Path, clock: Clock | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.keys = SandboxKeys.load_or_create(data_dir)
        self.state = SandboxState(clock or SystemClock())
        self.alipay = AlipayGateway(self.state, self.keys)
        self.wechat = WechatGateway(self.state, self.keys)
        self.notifier = Notifier(
            self.state, {"alipay": self.alipay.notification, "wechat": self.wechat.notification}
        )
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        self.notifier.start()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="payment-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.notifier.start()
        self._httpd.serve_forever()

    def stop(self) -> None:
        self.stopping.set()
        self.notifier.stop()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- dispatch ---------------------------------------------------------------------
    def gateway(self, path: str) -> AlipayGateway | WechatGateway | None:
        if path.startswith("/gateway.do"):
            return self.alipay
        if path.startswith(("/v3/", "/pay/", "/secapi/")):
            return self.wechat
        return None

    def control(self, method: str, path: str, body: bytes) -> Reply:
        try:
            doc: dict[str, Any] = json.loads(body or b"{}")
            if not isinstance(doc, dict):
                raise ValueError("body must be a JSON object")
            if method == "GET" and path == "/_sandbox/trades":
                return _json_reply(200, {"trades": self.state.view()})
            if method == "POST" and path == "/_sandbox/scenario":
                self.state.set_scenario(doc)
                return _json_reply(200, {"ok": True})
            if method == "POST" and path == "/_sandbox/scan":
                trade = self.state.scan_now(doc.get("platform"), doc.get("out_trade_no"))
                if trade is None:
                    return _json_reply(404, {"error": "no such QR trade"})
                return _json_reply(200, trade.view())
            if method == "POST" and path == "/_sandbox/reset":
                self.state.reset()
                return _json_reply(200, {"ok": True})
        except (ValueError, KeyError, TypeError) as exc:
            return _json_reply(400, {"error": str(exc)})
        return _json_reply(404, {"error": f"no control action {method} {path}"})

    def alipay_bill(self, path: str) -> Reply:
        token = path.rsplit("/", 1)[-1].removesuffix(".zip")
        day = self.alipay.bills.get(token)
        if day is None:
            return Reply(404, b"no such bill", content_type="text/plain")
        with self.state.lock:
            data = alipay_bill_zip(self.state, day)
        return Reply(200, data, content_type="application/zip")


def _json_reply(status: int, doc: dict[str, Any]) -> Reply:
    return Reply(status, json.dumps(doc, ensure_ascii=False).encode())


def _make_handler(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        log_name = "sandbox"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path
            if path.startswith("/_sandbox/"):
                self._send(server.control(method, path, body))
                return
            if path.startswith("/bills/alipay/"):
                self._send(server.alipay_bill(path))
                return
            gw = server.gateway(path)
            if gw is None:
                self._send(Reply(404, b'{"error":"no such endpoint"}'))
                return
            call = Call(
                method, path, {k.lower(): v for k, v in self.headers.items()}, body, server.base_url
            )
            op, out_trade_no = gw.classify(call)
            fault = server.state.scenario_for(out_trade_no).take_fault(op) if out_trade_no else None
            if fault is not None and not fault.after and self._fault_before(fault):
                return
            reply = gw.handle(call, corrupt=fault is not None and fault.kind == "bad_signature")
            if fault is not None and fault.after:
                self._fault_after(fault, reply)
                return
            self._send(reply)

        def _fault_before(self, fault: Fault) -> bool:
            """Act before the gateway sees the request; True if the request ends here."""
            if fault.kind == "5xx":
                self._send(Reply(503, b"Service Unavailable", content_type="text/plain"))
            elif fault.kind in ("timeout", "torn", "torn_body"):
                server.stopping.wait(fault.delay if fault.kind == "timeout" else 0)
                self.close_connection = True
            else:
                if fault.kind == "slow":
                    server.stopping.wait(fault.delay)
                return False
            return True

        def _fault_after(self, fault: Fault, reply: Reply) -> None:
            """The gateway has acted on the request; now lose or spoil the answer."""
            if fault.kind == "5xx":
                self._send(Reply(502, b"Bad Gateway", content_type="text/plain"))
            elif fault.kind == "torn":
                self.close_connection = True
            elif fault.kind == "torn_body":
                self.send_response(reply.status)
                self.send_header("Content-Length", str(len(reply.body) + 100))
                self.end_headers()
                self.wfile.write(reply.body[: len(reply.body) // 2])
                self.close_connection = True
            else:
                if fault.kind in ("timeout", "slow"):
                    server.stopping.wait(fault.delay)
                self._send(reply)

        def _send(self, reply: Reply) -> None:
            self.answer(reply.status, reply.body, reply.content_type, reply.headers)

    return Handler
