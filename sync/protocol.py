"""Signed requests between terminal and server (RFC 9421 HTTP Message
Signatures, Ed25519), shared by the client and the server.

A terminal signs every request with its enrolled Ed25519 key over
`@method`, `@path`, `@query` and `content-digest` (SHA-512 of the body), with
`created`, `nonce`, `keyid` (the terminal id) and the tag `pos-sync-v1`.
`@authority` is deliberately not covered: a load balancer or TLS terminator
in front of the server may rewrite the Host header without changing what the
terminal asked for. The server refuses a signature older or newer than
`MAX_SKEW`, and a nonce it has seen (the caller keeps the nonce store).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from pos.canonical import dumps
from pos.clock import Clock

TAG = "pos-sync-v1"
LABEL = "pos"
MAX_SKEW = timedelta(minutes=5)
COVERED = ("@method", "@path", "@query", "content-digest")
API_PREFIX = "/v1"
# One answer for every signature that does not verify, an unknown key id
# included: the refusal tells an unauthenticated caller nothing.
BAD_SIGNATURE = "the signature does not verify for an enrolled terminal"
# A valid point whose private key nobody holds (the public half of a key made
# and thrown away): what an unknown terminal's request is checked against.
_NOBODY = Ed25519PrivateKey.generate().public_key()


class AuthRefused(Exception):
    """A request the server must refuse; `reason` is a short machine word."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def public_key_from_hex(text: str) -> Ed25519PublicKey:
    """Raises ValueError on anything but 32 bytes of Ed25519 key as hex."""
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError as exc:
        raise ValueError("not an Ed25519 public key (32 bytes as hex)") from exc


def public_key_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(
        self,
        private: Ed25519PrivateKey | None = None,
        public: Callable[[str], Ed25519PublicKey | None] | None = None,
    ) -> None:
        self._private = private
        self._public = public

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        if self._private is None:
            raise AuthRefused("no-key", "no signing key")
        return self._private

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return None if self._public is None else self._public(key_id)


@dataclass(frozen=True)
class _Message:
    """The request shape the signature library reads: method, absolute url, headers."""

    method: str
    url: str
    headers: dict[str, str]


class RequestSigner:
    """Signs a terminal's requests with its Ed25519 key and the injected clock."""

    def __init__(self, terminal_id: str, key: Ed25519PrivateKey, clock: Clock) -> None:
        self._terminal_id = terminal_id
        self._clock = clock
        self._signer = HTTPMessageSigner(
            signature_algorithm=algorithms.ED25519, key_resolver=_OneKey(private=key)
        )

    def headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        """The Content-Digest, Signature-Input and Signature headers for a request."""
        msg = _Message(method.upper(), url, {})
        self._signer.sign(
            msg,
            key_id=self._terminal_id,
            created=self._clock.now(),
            nonce=secrets.token_urlsafe(18),
            label=LABEL,
            tag=TAG,
            covered_component_ids=COVERED,
            body=body,
        )
        return msg.headers

    def sign_request(self, request: httpx.Request) -> None:
        body = request.read()
        request.headers.update(self.headers(request.method, str(request.url), body))


@dataclass(frozen=True)
class VerifiedRequest:
    terminal_id: str
    nonce: str
    created: datetime


class _ClockVerifier(HTTPMessageVerifier):
    """Freshness is judged by the server's injected clock, in both directions."""

    clock: Clock

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        created = sig_input.params.get("created")
        if type(created) is not int:
            raise InvalidSignature('Signature is missing a required "created" parameter')
        now = self.clock.now().timestamp()
        if abs(now - created) > MAX_SKEW.total_seconds():
            raise AuthRefused("stale", "the request was signed more than 5 minutes from now")


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key: Callable[[str], Ed25519PublicKey | None],
    clock: Clock,
) -> VerifiedRequest:
    """Checks signature, coverage, digest and freshness; raises AuthRefused.

    `public_key(terminal_id)` returns the enrolled key, or None for an unknown
    terminal. An unknown terminal is answered exactly as a bad signature (it
    is checked against a key nobody holds), so an unauthenticated caller
    cannot learn which terminal ids exist. Replay (a nonce seen before) and
    revocation are the caller's.
    """
    if "signature-input" not in {k.lower() for k in headers}:
        raise AuthRefused("unsigned", "the request carries no signature")

    def known_or_nobody(key_id: str) -> Ed25519PublicKey:
        found = public_key(key_id)
        return _NOBODY if found is None else found

    verifier = _ClockVerifier(
        signature_algorithm=algorithms.ED25519, key_resolver=_OneKey(public=known_or_nobody)
    )
    verifier.clock = clock
    msg = _Message(method.upper(), url, dict(headers))
    try:
        results = verifier.verify(
            msg, max_age=None, expect_tag=TAG, require_components=COVERED, body=body
        )
    except AuthRefused:
        raise
    except (InvalidSignature, HTTPMessageSignaturesException, CryptoInvalidSignature) as exc:
        raise AuthRefused("bad-signature", BAD_SIGNATURE) from exc
    result = results[0]
    nonce = result.nonce
    if not isinstance(nonce, str) or len(nonce) < 16:
        raise AuthRefused("bad-signature", BAD_SIGNATURE)
    keyid = result.parameters.get("keyid")
    created = result.parameters.get("created")
    assert isinstance(keyid, str) and isinstance(created, int)
    return VerifiedRequest(keyid, nonce, datetime.fromtimestamp(created, tz=clock.now().tzinfo))


def signed_document(fields: Mapping[str, Any], key: Ed25519PrivateKey) -> str:
    """The server's detached signature over a canonical JSON document."""
    return key.sign(dumps(dict(fields))).hex()


def check_signed_document(fields: Mapping[str, Any], signature: str, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(bytes.fromhex(signature), dumps(dict(fields)))
    except (CryptoInvalidSignature, ValueError):
        return False
    return True


def endorsement_fields(generation: int, server_key: str) -> dict[str, object]:
    """What a server key's previous generation signs to vouch for the next."""
    return {"purpose": "pos-server-key", "generation": generation, "server_key": server_key}
