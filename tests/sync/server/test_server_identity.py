"""One server identity for every server process: the signing key lives in the
database, encrypted under the servers' shared secret, and a rotation is
followed by terminals through the old key's endorsement of the new."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pos.clock import SystemClock
from pos.services.terminal_services import TerminalServices
from pos.store.journal import records
from sync.apply import ConfigRejected, default_handlers
from sync.client import SyncClient, enroll, enrolment
from sync.protocol import RequestSigner, public_key_hex
from sync.server import models as m
from sync.server.identity import SECRET_ENV, DatabaseIdentity, ServerKeyError
from sync.transport import Link
from tests.sync.conftest import ROOT, TEST_KEY_SECRET

SETTINGS = json.dumps({"cash": {"rounding": "0.10"}}).encode()


def _server_cli(db_url: str, data_dir: Path, *args: str, secret: bytes = TEST_KEY_SECRET) -> Any:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sync.server.main",
            "--db",
            db_url,
            "--data-dir",
            str(data_dir),
            *list(args),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, SECRET_ENV: secret.decode()},
    )


def _client_via(shop: TerminalServices, url: str) -> SyncClient:
    """The terminal's client, talking to `url` rather than the server it enrolled with."""
    e = enrolment(shop.terminal)
    assert e is not None
    t = shop.terminal
    link = Link(url, RequestSigner(t.terminal_id, _key(shop), t.clock))
    from sync.apply import ConfigApplier

    return SyncClient(t, link, e.server_key, ConfigApplier(t, default_handlers()))


def _key(shop: TerminalServices) -> Any:
    from sync.client import signing_key

    return signing_key(shop.terminal)


@pytest.fixture
def pair(
    db_url: str, tmp_path: Path, server_process: Callable[..., Any], shop: TerminalServices
) -> tuple[Any, Any, str]:
    """Two server processes on one database, the shop's terminal enrolled
    through the first; and the key it pinned."""
    a = server_process(tmp_path / "a", db_url)
    b = server_process(tmp_path / "b", db_url)
    code = _server_cli(db_url, tmp_path / "a", "--json", "code", "create", "--store", "S001")
    return a, b, enroll(shop.terminal, a.url, json.loads(code.stdout)["code"]).server_key


def test_configuration_published_through_one_process_is_taken_by_a_terminal_enrolled_through_another(
    db_url: str, tmp_path: Path, pair: tuple[Any, Any, str], shop: TerminalServices
) -> None:
    a, b, _ = pair

    (tmp_path / "settings.json").write_bytes(SETTINGS)
    published = _server_cli(
        db_url,
        tmp_path / "b",
        "config",
        "publish",
        "channel_settings",
        str(tmp_path / "settings.json"),
    )
    assert published.returncode == 0, published.stderr
    for url in (b.url, a.url):
        client = _client_via(shop, url)
        try:
            applied = client.sync_once().applied
        finally:
            client.close()
        assert [x.outcome for x in applied] in (["applied"], [])
    with shop.terminal.db.read() as conn:
        outcomes = conn.execute("SELECT outcome FROM config_versions").fetchall()
    assert [tuple(r) for r in outcomes] == [("applied",)]


def test_a_rotated_key_is_followed_through_its_endorsement(
    db_url: str, tmp_path: Path, pair: tuple[Any, Any, str], shop: TerminalServices
) -> None:
    a, b, first = pair

    rotated = _server_cli(db_url, tmp_path / "b", "--json", "key", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new_key = json.loads(rotated.stdout)["server_key"]
    assert new_key != first
    (tmp_path / "settings.json").write_bytes(SETTINGS)
    _server_cli(
        db_url,
        tmp_path / "a",
        "config",
        "publish",
        "channel_settings",
        str(tmp_path / "settings.json"),
    )
    client = _client_via(shop, a.url)
    try:
        applied = client.sync_once().applied
    finally:
        client.close()
    assert [x.outcome for x in applied] == ["applied"]
    e = enrolment(shop.terminal)
    assert e is not None and e.server_key == new_key
    with shop.terminal.db.read() as conn:
        changed = [r for r in records(conn) if r.type == "sync.server_key_changed"]
    assert len(changed) == 1 and json.loads(changed[0].payload)["to"] == new_key
    # Both processes now sign with the new key, which new terminals pin.
    shown = [
        json.loads(_server_cli(db_url, d, "--json", "key", "show").stdout)
        for d in (tmp_path / "a", tmp_path / "b")
    ]
    assert shown[0] == shown[1] and shown[0][-1]["server_key"] == new_key
    assert b.url  # b served nothing here but shares the key


def test_a_key_not_endorsed_by_the_pinned_one_is_refused(
    tmp_path: Path, server: Any, shop: TerminalServices
) -> None:
    enroll(shop.terminal, server.url, server.code())
    pinned = enrolment(shop.terminal)
    assert pinned is not None
    # Someone with the database but not the old key puts a key of their own in.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    intruder = DatabaseIdentity(server.engine, TEST_KEY_SECRET, SystemClock())
    stranger = Ed25519PrivateKey.generate()
    from sync.server.identity import _seal

    public = public_key_hex(stranger.public_key())
    with server.engine.begin() as conn:
        conn.execute(
            m.server_keys.insert().values(
                generation=2,
                public_key=public,
                private_key=_seal(TEST_KEY_SECRET, 2, stranger, public),
                endorsement="00" * 64,
                created_at="2026-01-01T00:00:00.000000Z",
            )
        )
    from sync.server import configs

    configs.publish(server.engine, SystemClock(), intruder.current(), "channel_settings", SETTINGS)
    client = SyncClient.for_terminal(shop.terminal, default_handlers())
    try:
        with pytest.raises(ConfigRejected) as exc:
            client.sync_once()
    finally:
        client.close()
    assert "not signed by the key before it" in exc.value.message
    after = enrolment(shop.terminal)
    assert after is not None and after.server_key == pinned.server_key


def test_a_process_given_another_secret_refuses_to_start_and_says_why(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    assert _server_cli(url, tmp_path / "a", "db", "upgrade").returncode == 0
    assert _server_cli(url, tmp_path / "a", "key", "show").returncode == 0
    wrong = _server_cli(url, tmp_path / "b", "key", "show", secret=b"another-secret-" * 3)
    assert wrong.returncode == 5
    assert SECRET_ENV in wrong.stderr and "Traceback" not in wrong.stderr
    with pytest.raises(ServerKeyError):
        from sync.server import db

        DatabaseIdentity.load_or_create(db.make_engine(url), b"another-secret-" * 3, SystemClock())


def test_the_private_key_is_not_in_the_database_in_the_clear(server: Any) -> None:
    key = server.state.keys.current()
    with server.engine.connect() as conn:
        sealed = conn.execute(select(m.server_keys.c.private_key)).scalar_one()
    assert key.private_bytes_raw() not in bytes(sealed)
