"""Request signatures (RFC 9421, Ed25519): what is covered, what is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos.clock import FakeClock
from sync.protocol import (
    AuthRefused,
    RequestSigner,
    check_signed_document,
    signed_document,
    verify_request,
)

URL = "http://127.0.0.1:8443/v1/journal"
BODY = b'{"terminal_id":"T-1","entries":[]}'


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _verify(
    key: Ed25519PrivateKey, clock: FakeClock, headers: dict[str, str], **over: object
) -> str:
    args = {"method": "POST", "url": URL, "body": BODY} | over
    verify_request(
        str(args["method"]),
        str(args["url"]),
        headers,
        args["body"],  # type: ignore[arg-type]
        lambda kid: key.public_key() if kid == "T-1" else None,
        clock,
    )
    return "accepted"


def test_a_signed_request_verifies_and_names_its_terminal(key: Ed25519PrivateKey) -> None:
    clock = FakeClock()
    headers = RequestSigner("T-1", key, clock).headers("POST", URL, BODY)
    v = verify_request("POST", URL, headers, BODY, lambda kid: key.public_key(), clock)
    assert v.terminal_id == "T-1"
    assert len(v.nonce) >= 16
    assert "content-digest" in headers["Signature-Input"]


def test_a_load_balancer_rewriting_the_host_does_not_break_the_signature(
    key: Ed25519PrivateKey,
) -> None:
    clock = FakeClock()
    headers = RequestSigner("T-1", key, clock).headers("POST", URL, BODY)
    assert _verify(key, clock, headers, url="https://pos.example.com/v1/journal") == "accepted"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"body": b'{"terminal_id":"T-1","entries":[1]}'}, "bad-signature"),
        ({"method": "PUT"}, "bad-signature"),
        ({"url": "http://127.0.0.1:8443/v1/config"}, "bad-signature"),
        ({"url": URL + "?after=3"}, "bad-signature"),
    ],
)
def test_a_changed_body_method_path_or_query_is_refused(
    key: Ed25519PrivateKey, change: dict[str, object], why: str
) -> None:
    clock = FakeClock()
    headers = RequestSigner("T-1", key, clock).headers("POST", URL, BODY)
    with pytest.raises(AuthRefused) as exc:
        _verify(key, clock, headers, **change)
    assert exc.value.reason == why


def test_unsigned_requests_are_refused(key: Ed25519PrivateKey) -> None:
    with pytest.raises(AuthRefused) as exc:
        _verify(key, FakeClock(), {"Content-Type": "application/json"})
    assert exc.value.reason == "unsigned"


def test_a_signature_by_another_key_is_refused(key: Ed25519PrivateKey) -> None:
    clock = FakeClock()
    headers = RequestSigner("T-1", Ed25519PrivateKey.generate(), clock).headers("POST", URL, BODY)
    with pytest.raises(AuthRefused) as exc:
        _verify(key, clock, headers)
    assert exc.value.reason == "bad-signature"


def test_an_unknown_terminal_is_refused_as_a_bad_signature(key: Ed25519PrivateKey) -> None:
    clock = FakeClock()
    headers = RequestSigner("T-9", key, clock).headers("POST", URL, BODY)
    with pytest.raises(AuthRefused) as unknown:
        _verify(key, clock, headers)
    other = RequestSigner("T-1", Ed25519PrivateKey.generate(), clock).headers("POST", URL, BODY)
    with pytest.raises(AuthRefused) as forged:
        _verify(key, clock, other)
    assert (unknown.value.reason, unknown.value.detail) == ("bad-signature", forged.value.detail)


@pytest.mark.parametrize(
    "skew", [timedelta(minutes=5, seconds=2), -timedelta(minutes=5, seconds=2)]
)
def test_requests_signed_over_five_minutes_away_are_stale(
    key: Ed25519PrivateKey, skew: timedelta
) -> None:
    terminal_clock, server_clock = FakeClock(), FakeClock()
    headers = RequestSigner("T-1", key, terminal_clock).headers("POST", URL, BODY)
    server_clock.advance(skew.total_seconds())
    with pytest.raises(AuthRefused) as exc:
        _verify(key, server_clock, headers)
    assert exc.value.reason == "stale"


def test_four_minutes_of_clock_difference_is_tolerated(key: Ed25519PrivateKey) -> None:
    terminal_clock, server_clock = FakeClock(), FakeClock()
    headers = RequestSigner("T-1", key, terminal_clock).headers("POST", URL, BODY)
    server_clock.advance(240)
    assert _verify(key, server_clock, headers) == "accepted"


def test_each_request_gets_its_own_nonce(key: Ed25519PrivateKey) -> None:
    signer = RequestSigner("T-1", key, FakeClock())
    a = signer.headers("POST", URL, BODY)["Signature-Input"]
    b = signer.headers("POST", URL, BODY)["Signature-Input"]
    assert a != b


def test_a_signature_header_that_is_garbage_is_refused_not_crashed(key: Ed25519PrivateKey) -> None:
    clock = FakeClock()
    headers = RequestSigner("T-1", key, clock).headers("POST", URL, BODY)
    headers["Signature"] = "pos=:not base64 at all"
    with pytest.raises(AuthRefused) as exc:
        _verify(key, clock, headers)
    assert exc.value.reason == "bad-signature"


def test_server_documents_verify_only_unchanged_and_with_the_server_key() -> None:
    server = Ed25519PrivateKey.generate()
    doc = {"version": 3, "kind": "catalog", "sha256": "ab" * 32}
    sig = signed_document(doc, server)
    assert check_signed_document(doc, sig, server.public_key())
    assert not check_signed_document(doc | {"version": 4}, sig, server.public_key())
    assert not check_signed_document(doc, sig, Ed25519PrivateKey.generate().public_key())
    assert not check_signed_document(doc, "zz", server.public_key())
