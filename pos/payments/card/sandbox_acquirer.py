"""A sandbox acquirer that is also the issuer, on TCP 127.0.0.1 (port 0 for
tests), speaking the same ISO 8583 as a real host. For the demo and tests
only.

As issuer it derives each card's keys from its issuer master keys, verifies
the ARQC (or, for an advice, the TC) over field 55, and decides by rules:
unknown card range (14), wrong cryptogram (88), expired (54), blocked (62),
insufficient funds (51). Approvals carry the ARPC in field 55 (tag 91).
Faults use the QR sandbox's scenario model (pos.payments.sandbox.state):
"timeout" (hold the answer), "slow", "torn" (close without answering), "5xx"
(answer 96), "bad_signature" (a wrong ARPC); `after` acts on the request
before the answer is lost. Operations: start (0100, 0220), cancel (0400),
refund (0200)."""

from __future__ import annotations

import logging
import secrets
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from datetime import date

from pos.clock import Clock
from pos.errors import PosError
from pos.messages import msg
from pos.payments import rsa
from pos.payments.card import cryptogram as ac
from pos.payments.card import iso8583 as m
from pos.payments.card.issuer_keys import IssuerKeys, sandbox_issuer_keys
from pos.payments.card.sealed import open_card
from pos.payments.card.tlv import TlvError, flatten, parse
from pos.payments.sandbox.state import Fault, Scenario

log = logging.getLogger(__name__)

_OPS = {m.AUTH_REQUEST: "start", m.ADVICE: "start", m.REVERSAL: "cancel"}
_RESPONSE_MTI = {
    m.AUTH_REQUEST: m.AUTH_RESPONSE,
    m.ADVICE: m.ADVICE_RESPONSE,
    m.REVERSAL: m.REVERSAL_RESPONSE,
    m.FINANCIAL_REQUEST: m.FINANCIAL_RESPONSE,
}


@dataclass
class Account:
    balance_minor: int
    blocked: bool = False


@dataclass
class Authorisation:
    key: tuple[str, str]  # terminal id, STAN
    rrn: str
    account: str  # card token inside the sandbox: last 4 and a random id, never the PAN
    amount_minor: int
    code: str
    kind: str  # "online" or "advice"
    reversed: bool = False
    refunded_minor: int = 0


@dataclass
class SandboxState:
    accounts: dict[str, Account] = field(default_factory=dict)
    auths: dict[tuple[str, str], Authorisation] = field(default_factory=dict)
    by_rrn: dict[str, Authorisation] = field(default_factory=dict)
    refunds: dict[tuple[str, str], str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)  # MTIs seen, in order


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        try:
            while True:
                raw = m.read_frame(sock)
                if raw is None:
                    return
                if not self.server.acquirer.serve_one(sock, raw):
                    return
        except (OSError, PosError) as exc:
            log.info("acquirer connection ended: %s", type(exc).__name__)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    acquirer: SandboxAcquirer


class SandboxAcquirer:
    def __init__(
        self,
        clock: Clock,
        issuer_keys: IssuerKeys | None = None,
        private_key: rsa.PrivateKey | None = None,
        default_balance_minor: int = 1_000_000,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.clock = clock
        self.issuer_keys = issuer_keys or sandbox_issuer_keys()
        self.private_key = private_key or rsa.generate()
        self.default_balance_minor = default_balance_minor
        self.scenario = Scenario()
        self.state = SandboxState()
        self._lock = threading.Lock()
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._pan_ids: dict[str, str] = {}

    # -- control ------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        if self._server is None:
            raise PosError(msg("card.error.sandbox_not_running"))
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def public_key_pem(self) -> bytes:
        return rsa.public_pem(self.private_key.public_key())

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> SandboxAcquirer:
        """Listens; after a `stop`, on the same port and with the same books
        (a host that was down and is back)."""
        self._server = _Server((self._host, self._port), _Handler)
        self._server.acquirer = self
        self._port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sandbox-acquirer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def restarted(self, port: int) -> SandboxAcquirer:
        """The same acquirer (keys, issuer keys) back on `port`, with fresh books:
        as a host that was down comes back."""
        again = SandboxAcquirer(
            self.clock,
            self.issuer_keys,
            self.private_key,
            self.default_balance_minor,
            self._host,
            port,
        )
        return again.start()

    def add_fault(
        self, kind: str, op: str = "start", times: int = 1, after: bool = True, delay: float = 30.0
    ) -> None:
        with self._lock:
            self.scenario.faults.append(
                Fault.from_dict(
                    {"kind": kind, "op": op, "times": times, "after": after, "delay": delay}
                )
            )

    def reset(self) -> None:
        """Forgets faults and the message log; accounts and authorisations stay."""
        with self._lock:
            self.scenario = Scenario()
            self.state.messages.clear()

    def set_account(self, pan: str, balance_minor: int, blocked: bool = False) -> None:
        with self._lock:
            self.state.accounts[self._account_id(pan)] = Account(balance_minor, blocked)

    def balance(self, pan: str) -> int:
        with self._lock:
            return self._account(self._account_id(pan)).balance_minor

    # -- serving ------------------------------------------------------------

    def serve_one(self, sock: socket.socket, raw: bytes) -> bool:
        """Answers one message; False ends the connection."""
        try:
            request = m.decode(raw)
        except m.MessageError:
            return False
        op = _OPS.get(request.mti, "refund")
        with self._lock:
            fault = self.scenario.take_fault(op)
            self.state.messages.append(request.mti)
        if fault is not None and not fault.after and fault.kind in ("timeout", "torn"):
            return self._drop(fault)
        with self._lock:
            response = self._respond(request, fault)
        if fault is not None and fault.kind in ("timeout", "torn"):
            return self._drop(fault)
        if fault is not None and fault.kind == "slow":
            self.clock.sleep(fault.delay)
        sock.sendall(m.frame(m.encode(response)))
        return True

    def _drop(self, fault: Fault) -> bool:
        if fault.kind == "timeout":
            self.clock.sleep(fault.delay)
        return False

    def _respond(self, req: m.Message, fault: Fault | None) -> m.Message:
        echo = {k: req.get(k) for k in ("3", "4", "11", "37", "41", "42", "49")}
        mti = _RESPONSE_MTI.get(req.mti)
        if mti is None:
            return m.build("0810", {**echo, "39": "12"})
        if fault is not None and fault.kind == "5xx":
            return m.build(mti, {**echo, "39": "96"})
        if req.mti == m.REVERSAL:
            return m.build(mti, {**echo, "39": self._reverse(req)})
        if req.mti == m.FINANCIAL_REQUEST:
            return m.build(mti, {**echo, "39": self._refund(req)})
        code, auth_code, issuer_auth = self._authorise(req, fault)
        return m.build(mti, {**echo, "38": auth_code, "39": code}, issuer_auth)

    def _account_id(self, pan: str) -> str:
        if pan not in self._pan_ids:
            self._pan_ids[pan] = f"acct-{secrets.token_hex(4)}-{pan[-4:]}"
        return self._pan_ids[pan]

    def _account(self, account_id: str) -> Account:
        if account_id not in self.state.accounts:
            self.state.accounts[account_id] = Account(self.default_balance_minor)
        return self.state.accounts[account_id]

    def _card(self, req: m.Message) -> tuple[str, str]:
        if req.mti == m.ADVICE:
            return open_card(self.private_key, req.get("48"))
        return req.get("2"), req.get("14")

    def _authorise(self, req: m.Message, fault: Fault | None) -> tuple[str, str, bytes]:
        key = (req.get("41"), req.get("11"))
        done = self.state.auths.get(key)
        if done is not None:  # a repeated advice or request: the same answer
            return done.code, "" if done.code != m.APPROVED else done.rrn[-6:], b""
        try:
            pan, expiry = self._card(req)
            icc = flatten(parse(req.icc()))
            psn = icc[0x5F34].hex() if 0x5F34 in icc else None
            mk = ac.derive_icc_master_key(self.issuer_keys.key_for(pan), pan, psn)
            sk = ac.derive_session_key(mk, icc[0x9F36])
            cryptogram = icc[0x9F26]
        except (PosError, KeyError, TlvError):
            return "14", "", b""
        wanted = ac.CID_TC if req.mti == m.ADVICE else ac.CID_ARQC
        if icc.get(0x9F27, b"\x00")[0] & 0xC0 != wanted or not ac.verify_cryptogram(
            sk, icc, cryptogram
        ):
            code = "88"
        else:
            code = self._decide(pan, expiry, int(req.get("4") or 0))
        arc = code.encode()
        arpc = ac.compute_arpc(sk, cryptogram, arc) if code != "88" else b""
        if fault is not None and fault.kind == "bad_signature" and arpc:
            arpc = bytes(8)
        auth_code = f"{secrets.randbelow(10**6):06d}" if code == m.APPROVED else ""
        if code == m.APPROVED:
            account = self._account_id(pan)
            self._account(account).balance_minor -= int(req.get("4"))
            kind = "advice" if req.mti == m.ADVICE else "online"
            auth = Authorisation(key, req.get("37"), account, int(req.get("4")), code, kind)
            self.state.auths[key] = auth
            self.state.by_rrn[auth.rrn] = auth
        issuer_auth = (bytes.fromhex("910A") + arpc + arc) if arpc else b""
        return code, auth_code, issuer_auth

    def _decide(self, pan: str, expiry: str, amount: int) -> str:
        today = self.clock.now().date()
        try:
            exp = date(2000 + int(expiry[:2]), int(expiry[2:4]), 1)
        except ValueError:
            return "54"
        if (exp.year, exp.month) < (today.year, today.month):
            return "54"
        account = self._account(self._account_id(pan))
        if account.blocked:
            return "62"
        if account.balance_minor < amount:
            return "51"
        return m.APPROVED

    def _reverse(self, req: m.Message) -> str:
        original = req.get("90")
        auth = self.state.auths.get((req.get("41"), original[4:10]))
        if auth is None:
            # Nothing was held for it: the reversal is as good as done.
            return "25"
        if not auth.reversed:
            auth.reversed = True
            self._account(auth.account).balance_minor += auth.amount_minor - auth.refunded_minor
        return m.APPROVED

    def _refund(self, req: m.Message) -> str:
        key = (req.get("41"), req.get("11"))
        if key not in self.state.refunds:
            self.state.refunds[key] = self._apply_refund(req)
        return self.state.refunds[key]

    def _apply_refund(self, req: m.Message) -> str:
        if req.get("3") != m.REFUND:
            return "12"
        auth = self.state.by_rrn.get(req.get("37"))
        amount = int(req.get("4") or 0)
        if auth is None or auth.reversed:
            return "25"
        if amount <= 0 or auth.refunded_minor + amount > auth.amount_minor:
            return "12"
        auth.refunded_minor += amount
        self._account(auth.account).balance_minor += amount
        return m.APPROVED
