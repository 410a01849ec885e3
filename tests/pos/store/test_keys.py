from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend
from keyring.backends.SecretService import Keyring as SecretServiceKeyring
from keyrings.alt.file import PlaintextKeyring

from pos.clock import FakeClock
from pos.store import keys
from pos.store.errors import KeystoreUnavailable
from pos.store.terminal import Terminal, open_terminal, provision

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    "backend",
    [null.Keyring(), fail.Keyring(), PlaintextKeyring()],
    ids=["null", "fail", "plaintext"],
)
def test_keyring_backends_that_do_not_protect_secrets_are_refused(
    backend: KeyringBackend,
) -> None:
    with pytest.raises(KeystoreUnavailable) as err:
        keys.KeyringKeyStore("T-1", backend)
    assert "does not protect secrets" in err.value.message
    text = err.value.render("en")
    assert "gnome-keyring" in text and "Keychain" in text


def test_chain_of_only_insecure_backends_is_refused() -> None:
    class InsecureChain(ChainerBackend):
        backends = (null.Keyring(), PlaintextKeyring())

    with pytest.raises(KeystoreUnavailable, match="No keyring backend here protects"):
        keys.secure_backend(InsecureChain())


def test_chain_resolves_to_its_secure_member_and_skips_plaintext_fallbacks() -> None:
    secret_service = SecretServiceKeyring()

    class MixedChain(ChainerBackend):
        backends = (PlaintextKeyring(), secret_service)

    assert keys.secure_backend(MixedChain()) is secret_service


def _pos(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos.cli.main", *args],
        capture_output=True,
        text=True,
        env={**env, "POS_LANG": "en"},  # the tests read the English texts
        cwd=REPO,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "backend",
    ["keyring.backends.null.Keyring", "keyrings.alt.file.PlaintextKeyring"],
)
def test_init_honours_python_keyring_backend_and_refuses_insecure_ones(
    tmp_path: Path, backend: str
) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": backend, "HOME": str(tmp_path)}
    result = _pos(env, "--data-dir", str(tmp_path / "t"), "init", "--store-id", "S001")
    assert result.returncode == 5, result.stderr
    assert "does not protect secrets" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "t" / "terminal.json").exists()


def test_keyring_keystore_round_trips_secrets(real_keyring: KeyringBackend) -> None:
    store = keys.KeyringKeyStore(f"T-rt-{os.getpid()}", real_keyring)
    secret = keys.new_secret()
    try:
        assert store.get("probe") is None
        store.set("probe", secret)
        assert store.get("probe") == secret
    finally:
        store.delete("probe")
    assert store.get("probe") is None
    store.delete("probe")  # deleting twice is fine


def test_keyring_terminal_keeps_no_key_in_its_data_directory(keyring_terminal: Terminal) -> None:
    assert keyring_terminal.keystore.kind == "keyring"
    assert not keyring_terminal.demo_keystore
    files = b"".join(p.read_bytes() for p in keyring_terminal.data_dir.iterdir() if p.is_file())
    for name in keys.ALL_KEYS:
        secret = keyring_terminal.keystore.get(name)
        assert secret is not None and len(secret) == 32
        assert secret not in files and secret.hex().encode() not in files


def test_keyring_terminal_reopens_with_keys_from_the_keyring(
    keyring_terminal: Terminal, real_keyring: KeyringBackend
) -> None:
    data_dir = keyring_terminal.data_dir
    keyring_terminal.close()
    with open_terminal(data_dir, FakeClock(), keyring_backend=real_keyring) as again:
        assert again.verify_journal().ok


def test_two_terminals_share_one_keyring_without_mixing_keys(
    tmp_path: Path, real_keyring: KeyringBackend
) -> None:
    made = []
    try:
        for name in ("a", "b"):
            made.append(
                provision(
                    tmp_path / name,
                    "keyring",
                    "S001",
                    None,
                    FakeClock(),
                    keyring_backend=real_keyring,
                )
            )
        assert made[0].public_key != made[1].public_key
        assert made[0].card_token_key != made[1].card_token_key
    finally:
        for terminal in made:
            terminal.close()
            for key_name in keys.ALL_KEYS:
                terminal.keystore.delete(key_name)


def test_existing_keys_for_a_terminal_id_are_never_overwritten(
    tmp_path: Path, real_keyring: KeyringBackend
) -> None:
    tid = f"T-dup-{os.getpid()}"
    first = provision(
        tmp_path / "a", "keyring", "S001", tid, FakeClock(), keyring_backend=real_keyring
    )
    try:
        db_key = first.keystore.get(keys.DB_KEY)
        with pytest.raises(Exception, match="already holds keys"):
            provision(
                tmp_path / "b", "keyring", "S001", tid, FakeClock(), keyring_backend=real_keyring
            )
        assert first.keystore.get(keys.DB_KEY) == db_key
    finally:
        first.close()
        for key_name in keys.ALL_KEYS:
            first.keystore.delete(key_name)


def test_locked_or_unreachable_keyring_is_reported_not_crashed(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
    }
    result = _pos(env, "--data-dir", str(tmp_path / "t"), "init", "--store-id", "S001")
    assert result.returncode == 5, result.stderr
    assert "keyring" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_pos_init_keeps_keys_in_the_session_keyring(
    tmp_path: Path, real_keyring: KeyringBackend
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    data_dir = tmp_path / "t"
    made = _pos(env, "--json", "--data-dir", str(data_dir), "init", "--store-id", "S001")
    assert made.returncode == 0, made.stderr
    assert "DEMO" not in made.stderr
    terminal_id = json.loads(made.stdout)["terminal_id"]
    store = keys.KeyringKeyStore(terminal_id, real_keyring)
    try:
        assert all(store.get(name) is not None for name in keys.ALL_KEYS)
        assert _pos(env, "--data-dir", str(data_dir), "journal", "verify").returncode == 0
    finally:
        for name in keys.ALL_KEYS:
            store.delete(name)
    gone = _pos(env, "--data-dir", str(data_dir), "journal", "verify")
    assert gone.returncode == 5 and "is not in the OS keyring" in gone.stderr


def _clean_env(home: Path) -> dict[str, str]:
    """No keyring configured: no PYTHON_KEYRING_BACKEND, no keyringrc.cfg."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))
    return env


def test_with_no_keyring_configured_the_session_secret_service_is_used_without_discovery(
    tmp_path: Path, real_keyring: KeyringBackend
) -> None:
    probe = (
        "import sys; from pos.store import keys; "
        "print(keys.KeyringKeyStore('T-probe').describe()); "
        "print(sorted(m for m in sys.modules if m.startswith('keyring.backends.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=_clean_env(tmp_path),
        cwd=REPO,
        timeout=60,
        check=True,
    )
    described, loaded = done.stdout.splitlines()
    assert "keyring.backends.SecretService.Keyring" in described
    # keyring's discovery would have imported every backend (macOS, Windows, KWallet...).
    for other in ("macOS", "Windows", "kwallet", "libsecret"):
        assert f"keyring.backends.{other}'" not in loaded


def test_a_keyring_configured_in_keyringrc_is_honoured(
    tmp_path: Path, real_keyring: KeyringBackend
) -> None:
    config = tmp_path / "config" / "python_keyring"
    config.mkdir(parents=True)
    (config / "keyringrc.cfg").write_text(
        "[backend]\ndefault-keyring=keyring.backends.null.Keyring\n"
    )
    result = _pos(
        _clean_env(tmp_path), "--data-dir", str(tmp_path / "t"), "init", "--store-id", "S001"
    )
    assert result.returncode == 5, result.stderr
    assert "keyring.backends.null.Keyring" in result.stderr
    assert "does not protect secrets" in result.stderr


def test_a_terminal_with_one_keyring_item_per_key_opens_and_gains_the_single_item(
    keyring_terminal: Terminal, real_keyring: KeyringBackend
) -> None:
    data_dir, service = keyring_terminal.data_dir, keys.service_name(keyring_terminal.terminal_id)
    held = keys.require_all(keyring_terminal.keystore, keyring_terminal.terminal_id)
    keyring_terminal.close()
    # The layout terminals were provisioned with before: one item per key, no single item.
    for name, secret in held.items():
        real_keyring.set_password(service, name, base64.b64encode(secret).decode())
    real_keyring.delete_password(service, keys.BUNDLE)
    with open_terminal(data_dir, FakeClock(), keyring_backend=real_keyring) as again:
        assert again.verify_journal().ok
    single = json.loads(real_keyring.get_password(service, keys.BUNDLE) or "{}")
    assert {n: base64.b64decode(v) for n, v in single.items()} == held
    # The old items stay (an older program still opens the terminal) ...
    assert all(real_keyring.get_password(service, name) for name in keys.ALL_KEYS)
    # ... and the single item alone is enough.
    for name in keys.ALL_KEYS:
        real_keyring.delete_password(service, name)
    with open_terminal(data_dir, FakeClock(), keyring_backend=real_keyring) as again:
        assert again.verify_journal().ok


def test_new_terminals_keep_their_keys_in_one_keyring_item(
    keyring_terminal: Terminal, real_keyring: KeyringBackend
) -> None:
    service = keys.service_name(keyring_terminal.terminal_id)
    assert all(real_keyring.get_password(service, n) is None for n in keys.ALL_KEYS)
    single = json.loads(real_keyring.get_password(service, keys.BUNDLE) or "{}")
    assert sorted(single) == sorted(keys.ALL_KEYS)
    for name in keys.ALL_KEYS:
        keyring_terminal.keystore.delete(name)
    assert real_keyring.get_password(service, keys.BUNDLE) is None


def test_entries_read_with_the_keys_are_handed_out_once_then_read_afresh(
    keyring_terminal: Terminal, real_keyring: KeyringBackend
) -> None:
    store, tid = keyring_terminal.keystore, keyring_terminal.terminal_id
    first, second = b"1" * 32, b"2" * 32
    store.set("probe", first)
    try:
        found = keys.require_all(store, tid, hold=["probe"])
        assert found == {n: store.get(n) for n in keys.ALL_KEYS}
        real_keyring.set_password(
            keys.service_name(tid), "probe", base64.b64encode(second).decode()
        )
        assert store.get("probe") == first  # read together with the keys
        assert store.get("probe") == second
    finally:
        store.delete("probe")
