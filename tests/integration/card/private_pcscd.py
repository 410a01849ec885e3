"""A pcscd of the test session's own, so no other process's emulated card can
sit in our virtual reader.

The system pcscd's vpcd slot is shared: anything on the machine that
connects to 127.0.0.1:35963 (the demo, the UI tests, another test run) is
the card in that slot, and a second connection waits in the listen backlog
and becomes the card the moment ours is removed. That was the "slot still
full >10 s after removal" flake. This pcscd runs in a private mount
namespace (its /run/pcscd is a directory of ours), listens for its vpcd
cards on a free port pair, and this process's PC/SC client is pointed at it
with PCSCLITE_CSOCK_NAME (read by libpcsclite once, at the first call in
the process). A probe card proves the client really talks to it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from drivers.pcsc.reader import card_present, list_readers
from drivers.virtualcard.card import EmvCard
from drivers.virtualcard.profiles import VISA
from drivers.virtualcard.vpcd import PORT_ENV, VirtualCardSlot

SOCKET_ENV = "PCSCLITE_CSOCK_NAME"
SYSTEM_CONF = Path("/etc/reader.conf.d/vpcd")
READER = "Virtual PCD 00 00"


@dataclass
class PrivatePcscd:
    proc: subprocess.Popen[bytes]
    socket_path: Path
    port: int
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no pcscd log: {exc})"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def _free_port_pair() -> int:
    """A port P with P and P+1 free (vpcd's two slots)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return int(port)
    raise RuntimeError("no two consecutive free ports")


def _driver_path() -> str:
    match = re.search(r"^LIBPATH\s+(\S+)", SYSTEM_CONF.read_text(), re.MULTILINE)
    if not match:
        raise RuntimeError(f"{SYSTEM_CONF} names no LIBPATH")
    return match.group(1)


def _wait(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _probe(port: int) -> bool:
    """A card on our port shows in READER, and is gone after removal."""
    slot = VirtualCardSlot(port=port)
    slot.insert(EmvCard(VISA))
    try:
        seen = _wait(lambda: card_present(READER) is not None, 5.0)
    finally:
        slot.remove()
    return seen and _wait(lambda: card_present(READER) is None, 5.0)


def start(workdir: Path) -> tuple[PrivatePcscd | None, str]:
    """Our own pcscd, with this process pointed at it; or None and why not."""
    if not SYSTEM_CONF.exists():
        return None, "vsmartcard-vpcd is not installed"
    if SOCKET_ENV in os.environ:
        return None, f"{SOCKET_ENV} is already set by the caller"
    workdir.mkdir(parents=True, exist_ok=True)
    run_dir, conf_dir = workdir / "run", workdir / "conf"
    run_dir.mkdir(exist_ok=True)
    conf_dir.mkdir(exist_ok=True)
    port = _free_port_pair()
    (conf_dir / "vpcd").write_text(
        'FRIENDLYNAME "Virtual PCD"\n'
        f"DEVICENAME   /dev/null:0x{port:04X}\n"
        f"LIBPATH      {_driver_path()}\n"
        f"CHANNELID    0x{port:04X}\n"
    )
    log_path = workdir / "pcscd.log"
    script = 'mkdir -p /run/pcscd && mount --bind "$1" /run/pcscd && exec pcscd -f -c "$2"'
    with log_path.open("wb") as log:
        try:
            proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private",
                 "sh", "-c", script, "sh", str(run_dir), str(conf_dir)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except OSError as exc:
            return None, f"unshare is not available: {exc}"
    daemon = PrivatePcscd(proc, run_dir / "pcscd.comm", port, log_path)
    listening = _wait(lambda: proc.poll() is not None or _listening(port), 10.0)
    if proc.poll() is not None or not listening or not daemon.socket_path.exists():
        daemon.stop()
        return None, f"a private pcscd would not start: {daemon.log_tail(5)}"
    os.environ[SOCKET_ENV] = str(daemon.socket_path)
    os.environ[PORT_ENV] = str(port)
    if READER in list_readers() and _probe(port):
        return daemon, ""
    # libpcsclite had already picked the system socket in this process.
    del os.environ[SOCKET_ENV], os.environ[PORT_ENV]
    daemon.stop()
    return None, "this process already talks to the system pcscd"


def _listening(port: int) -> bool:
    out = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
    return f":{port} " in out


def stop(daemon: PrivatePcscd) -> None:
    os.environ.pop(SOCKET_ENV, None)
    os.environ.pop(PORT_ENV, None)
    daemon.stop()
