"""Reading a channel's section of the terminal's payment configuration.

The configuration lives in ``payments.json`` in the terminal's data directory
(`load_payments_config`): one object per channel name, e.g.
``{"alipay": {"gateway": "...", "app_id": "...", "private_key_file": "..."}}``.
Private keys come from a file (``*_file``) or from the keyring through the
channel env's secret source (``*_secret``: the secret's name); they are never
in the configuration itself."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pos.errors import InvalidInput
from pos.messages import msg
from pos.payments import rsa
from pos.payments.channel import ChannelEnv

CONFIG_FILE = "payments.json"


def load_payments_config(data_dir: Path) -> dict[str, dict[str, Any]]:
    path = data_dir / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            msg("payments.config.unreadable", path=str(path), detail=str(exc))
        ) from exc
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise InvalidInput(msg("payments.config.not_map", path=str(path)))
    return doc


class Section:
    def __init__(self, env: ChannelEnv) -> None:
        self.env = env
        self.cfg: Mapping[str, Any] = env.config

    def text(self, key: str, default: str | None = None) -> str:
        value = self.cfg.get(key, default)
        if value is None or not isinstance(value, str):
            raise InvalidInput(
                msg("payments.config.needs_text", channel=self.env.name, key=key, file=CONFIG_FILE)
            )
        return value

    def number(self, key: str, default: float) -> float:
        value = self.cfg.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InvalidInput(
                msg("payments.config.not_number", channel=self.env.name, key=key, file=CONFIG_FILE)
            )
        return float(value)

    def _path(self, key: str) -> Path:
        path = Path(self.text(key))
        return path if path.is_absolute() else self.env.data_dir / path

    def secret_bytes(self, key: str) -> bytes:
        """`key_file` (a path) or `key_secret` (a name in the keyring)."""
        if f"{key}_file" in self.cfg:
            return rsa.read_key_file(
                self._path(f"{key}_file"), msg("payments.key.setting", key=key)
            )
        name = self.text(f"{key}_secret")
        value = self.env.secret.get_secret(name) if self.env.secret is not None else None
        if value is None:
            raise InvalidInput(
                msg(
                    "payments.config.no_secret",
                    name=name,
                    channel=self.env.name,
                    key=key,
                    file=CONFIG_FILE,
                )
            )
        return value

    def private_key(self, key: str) -> rsa.PrivateKey:
        return rsa.load_private_key(self.secret_bytes(key), msg("payments.key.setting", key=key))

    def public_key(self, key: str) -> rsa.PublicKey:
        what = msg("payments.key.setting", key=key)
        return rsa.load_public_key(rsa.read_key_file(self._path(f"{key}_file"), what), what)
