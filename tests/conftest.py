"""Fixtures every area shares: a provisioned terminal in tmp_path, and a check
for a real OS keyring (Secret Service) that skips with the reason when none
is reachable. scripts/test.sh always starts one (dbus-run-session +
gnome-keyring), so in CI nothing is skipped."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

# pytest put this directory on sys.path to import this file; the folder tests/pos
# would then shadow the real `pos` package (an editable install resolves after
# path entries), so it is taken off again before anything imports pos.
_TESTS_DIR = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _TESTS_DIR]

import pytest  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402

from pos.clock import FakeClock  # noqa: E402
from pos.store import keys  # noqa: E402
from pos.store.terminal import Terminal, provision  # noqa: E402


def secret_service_problem() -> str | None:
    """Why no real Secret Service keyring is usable here, or None when it is."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return "no D-Bus session bus; run the tests through scripts/test.sh"
    try:
        import secretstorage

        connection = secretstorage.dbus_init()
        try:
            collection = secretstorage.get_default_collection(connection)
            if collection.is_locked():
                return "the Secret Service default collection is locked"
        finally:
            connection.close()
    except Exception as exc:  # any D-Bus or Secret Service failure means: not reachable
        return f"Secret Service unreachable ({type(exc).__name__}: {exc})"
    return None


@pytest.fixture(scope="session")
def real_keyring() -> KeyringBackend:
    """The real Secret Service keyring backend; skips when none is reachable."""
    problem = secret_service_problem()
    if problem:
        pytest.skip(f"needs a real OS keyring: {problem}")
    from keyring.backends.SecretService import Keyring

    return Keyring()


@pytest.fixture
def tmp_terminal(tmp_path: Path) -> Iterator[Terminal]:
    """A freshly provisioned terminal (store S001, terminal T-TEST-1) in tmp_path.

    Keys are in the demo keystore so the fixture works everywhere; tests of the
    keyring itself use `keyring_terminal`. `tmp_terminal.clock` is a FakeClock.
    """
    terminal = provision(tmp_path / "terminal", "demo", "S001", "T-TEST-1", FakeClock())
    try:
        yield terminal
    finally:
        terminal.close()


@pytest.fixture
def keyring_terminal(tmp_path: Path, real_keyring: KeyringBackend) -> Iterator[Terminal]:
    """A terminal whose keys are in the real OS keyring; its keys are deleted afterwards."""
    terminal = provision(
        tmp_path / "terminal", "keyring", "S001", None, FakeClock(), keyring_backend=real_keyring
    )
    try:
        yield terminal
    finally:
        terminal.close()
        for name in keys.ALL_KEYS:
            terminal.keystore.delete(name)
