"""The small loopback HTTP servers of the payments area (the sandbox
gateways, the notification receiver) share how they answer."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any

log = logging.getLogger(__name__)


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive; access lines go to the debug log, not stderr."""

    protocol_version = "HTTP/1.1"
    log_name = "payments-http"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(self.log_name + ": " + format, *args)

    def answer(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status)
            if body or status != 204:
                self.send_header("Content-Type", content_type)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The caller gave up waiting (its own timeout): nothing left to tell it.
            self.close_connection = True
