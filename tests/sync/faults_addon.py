"""A mitmproxy addon that injects network faults between terminals and the
server (run by Debian's `mitmdump` in reverse-proxy mode; imports only
mitmproxy and the standard library, as it runs in mitmproxy's Python).

Per request, with probability `fault_rate`, one of:
  drop_before   the connection is cut before the server sees the request
  drop_after    the server handles (commits) it, then the connection is cut
  delay         the request waits 0.2-3 s (some exceed the client's timeout)
  error_before  503 without reaching the server
  error_after   the server commits, the client gets 502
  truncate      the server's answer is cut in half
  duplicate     the request is also delivered a second time
  reorder       the request is held back and delivered after a later one,
                while the client sees its connection cut
Every fault is counted in `fault_log` (one JSON object per line).
"""

from __future__ import annotations

import asyncio
import json
import random

from mitmproxy import ctx, http

KINDS = (
    "drop_before",
    "drop_after",
    "delay",
    "error_before",
    "error_after",
    "truncate",
    "duplicate",
    "reorder",
)


class Faults:
    def __init__(self) -> None:
        self.rng = random.Random(0)
        self.held: list[http.HTTPFlow] = []

    def load(self, loader) -> None:  # type: ignore[no-untyped-def]
        loader.add_option("fault_seed", int, 0, "random seed")
        loader.add_option("fault_rate", float, 0.25, "share of requests that get a fault")
        loader.add_option("fault_log", str, "", "file the injected faults are appended to")

    def running(self) -> None:
        self.rng = random.Random(ctx.options.fault_seed)

    def _log(self, kind: str, flow: http.HTTPFlow) -> None:
        if ctx.options.fault_log:
            with open(ctx.options.fault_log, "a") as fh:
                fh.write(json.dumps({"fault": kind, "path": flow.request.path}) + "\n")

    def _release_held(self) -> None:
        while self.held:
            ctx.master.commands.call("replay.client", [self.held.pop(0)])

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.is_replay or flow.request.path.startswith("/v1/enroll"):
            return
        if self.held and self.rng.random() < 0.5:
            # Held requests arrive after this newer one has gone ahead.
            asyncio.get_running_loop().call_later(0.3, self._release_held)
        if self.rng.random() >= ctx.options.fault_rate:
            return
        kind = self.rng.choice(KINDS)
        flow.metadata["fault"] = kind
        self._log(kind, flow)
        if kind == "drop_before":
            flow.kill()
        elif kind == "delay":
            await asyncio.sleep(self.rng.uniform(0.2, 3.0))
        elif kind == "error_before":
            flow.response = http.Response.make(
                503, b"injected outage", {"Content-Type": "text/plain"}
            )
        elif kind == "duplicate":
            ctx.master.commands.call("replay.client", [flow.copy()])
        elif kind == "reorder":
            self.held.append(flow.copy())
            flow.kill()

    def response(self, flow: http.HTTPFlow) -> None:
        kind = flow.metadata.get("fault")
        if flow.is_replay or flow.response is None:
            return
        if kind == "drop_after":
            flow.kill()
        elif kind == "error_after":
            flow.response = http.Response.make(
                502, b"injected bad gateway", {"Content-Type": "text/plain"}
            )
        elif kind == "truncate":
            body = flow.response.content or b""
            flow.response.content = body[: len(body) // 2]


addons = [Faults()]
