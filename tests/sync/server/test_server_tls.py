"""Given a certificate the server speaks HTTPS, and a terminal enrolled with
the CA to trust syncs over it; a terminal without that CA refuses the server."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pos.clock import SystemClock
from pos.errors import PosError
from pos.services.terminal_services import TerminalServices
from sync.client import SyncClient, enroll, status
from sync.server import enrolment


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pos-server.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_a_terminal_enrols_and_syncs_over_tls_with_the_pinned_ca(
    tmp_path: Path, shop: TerminalServices, server_process: Any, ring_up: Any
) -> None:
    cert, key = self_signed(tmp_path)
    srv = server_process(
        tmp_path / "srv",
        f"sqlite:///{tmp_path / 's.db'}",
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
    )
    assert srv.url.startswith("https://")
    ring_up(shop, 3)
    code = enrolment.create_code(srv.engine, SystemClock(), "S001")
    with pytest.raises(PosError):  # the system CAs do not vouch for this server
        enroll(shop.terminal, srv.url, code)
    with pytest.raises(PosError) as exc:
        enroll(shop.terminal, srv.url, code, ca_file=str(tmp_path / "missing.pem"))
    assert "--ca-file" in exc.value.remedy
    enroll(shop.terminal, srv.url, code, ca_file=str(cert))
    client = SyncClient.for_terminal(shop.terminal, {})
    try:
        client.sync_once()
    finally:
        client.close()
    assert status(shop.terminal).backlog == 0
