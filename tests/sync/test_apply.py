"""Configuration down: the server signs versions, the terminal pulls what is
newer, checks it against the pinned key, applies it atomically and journals it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from pos.clock import SystemClock
from pos.services.catalog import CatalogRepository
from pos.services.terminal_services import TerminalServices
from pos.store.journal import records
from sync.apply import ConfigRejected, default_handlers
from sync.client import SyncClient, enroll, status
from sync.server import configs
from sync.server import models as m

ROOT = Path(__file__).resolve().parents[2]


def publish(server: Any, kind: str, body: bytes, store: str | None = None) -> int:
    return configs.publish(
        server.engine, SystemClock(), server.state.keys.current(), kind, body, store
    )


def cheaper_catalog() -> bytes:
    lines = (ROOT / "assets" / "demo_catalog.csv").read_text("utf-8").splitlines()
    head, first, rest = lines[0], lines[1].split(","), lines[2:]
    first[4] = "1.00"
    return "\n".join([head, ",".join(first), *rest]).encode()


@pytest.fixture
def client(shop: TerminalServices, server: Any) -> Any:
    enroll(shop.terminal, server.url, server.code())
    c = SyncClient.for_terminal(shop.terminal, default_handlers())
    yield c
    c.close()


def journal_types(shop: TerminalServices) -> list[str]:
    with shop.terminal.db.read() as conn:
        return [r.type for r in records(conn)]


def test_a_new_catalog_is_applied_journaled_and_reported_back(
    shop: TerminalServices, server: Any, client: Any
) -> None:
    v = publish(server, "catalog", cheaper_catalog())
    report = client.sync_once()
    assert [(a.version, a.kind, a.outcome) for a in report.applied] == [(v, "catalog", "applied")]
    with shop.terminal.db.read() as conn:
        assert CatalogRepository().get(conn, "DRK-001").unit_price.minor == 100
    # the new prices are sealed in the same transaction (docs/store.md, sealed tables)
    assert journal_types(shop)[-2:] == ["config.applied", "store.sealed"]
    assert status(shop.terminal).config_version == v
    assert status(shop.terminal).backlog == 0  # the config entry went up too
    assert client.sync_once().applied == []


def test_risk_rules_and_channel_settings_are_installed(
    shop: TerminalServices, server: Any, client: Any
) -> None:
    from pos.risk.rulestore import active_ruleset

    rules = (ROOT / "assets" / "risk" / "default_rules.toml").read_bytes()
    publish(server, "risk_rules", rules)
    publish(
        server, "channel_settings", b'{"cash": {"enabled": true}, "alipay": {"enabled": false}}'
    )
    outcomes = [a.outcome for a in client.sync_once().applied]
    assert outcomes == ["applied", "applied"]
    with shop.terminal.db.read() as conn:
        assert active_ruleset(conn).origin == "server"
        doc = conn.execute("SELECT doc FROM channel_settings").fetchone()[0]
    assert '"alipay":{"enabled":false}' in doc


def test_a_bad_catalog_is_refused_whole_and_the_current_one_kept(
    shop: TerminalServices, server: Any, client: Any
) -> None:
    publish(server, "catalog", b"sku,barcodes\nX,notabarcode\n")
    with pytest.raises(ConfigRejected):
        client.sync_once()
    st = status(shop.terminal)
    assert st.config_version == 0 and "was refused" in (st.last_error or "")
    with shop.terminal.db.read() as conn:
        assert CatalogRepository().get(conn, "DRK-001").unit_price.minor == 350
    # A fixed version published later replaces the bad one.
    fixed = publish(server, "catalog", cheaper_catalog())
    outcomes = [(a.outcome, a.version) for a in client.sync_once().applied]
    assert outcomes == [("skipped", fixed - 1), ("applied", fixed)]


def test_a_version_not_signed_by_the_pinned_server_key_is_refused(
    shop: TerminalServices, server: Any, client: Any
) -> None:
    v = publish(server, "catalog", cheaper_catalog())
    impostor = Ed25519PrivateKey.generate()
    with server.engine.begin() as conn:
        conn.execute(update(m.config_versions).values(signature=impostor.sign(b"x").hex()))
    with pytest.raises(ConfigRejected) as exc:
        client.sync_once()
    assert "not signed by the server" in exc.value.message
    assert status(shop.terminal).config_version == v - 1


def test_a_body_swapped_under_its_signature_is_refused(
    shop: TerminalServices, server: Any, client: Any
) -> None:
    publish(server, "catalog", cheaper_catalog())
    with server.engine.begin() as conn:
        conn.execute(update(m.config_versions).values(body=b"sku\n"))
    with pytest.raises(ConfigRejected) as exc:
        client.sync_once()
    assert "signed digest" in exc.value.message


def test_secrets_in_channel_settings_are_refused(server: Any, client: Any) -> None:
    publish(server, "channel_settings", b'{"alipay": {"private_key": "-----BEGIN"}}')
    with pytest.raises(ConfigRejected) as exc:
        client.sync_once()
    assert "secret" in exc.value.message


def test_versions_for_another_store_are_not_sent(
    shop: TerminalServices, server: Any, client: Any
) -> None:
    publish(server, "channel_settings", b'{"cash": {}}', store="S999")
    assert client.sync_once().applied == []
    mine = publish(server, "channel_settings", b'{"cash": {}}', store="S001")
    assert [a.version for a in client.sync_once().applied] == [mine]
