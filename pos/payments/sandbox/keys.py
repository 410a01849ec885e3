"""The sandbox's key material, generated at first start and kept in
<data dir>/sandbox/ (files 0600): the terminal's merchant keys (as the
platforms would have them registered) and the sandbox platforms' own keys.
`write_terminal_config` points payments.json at the sandbox."""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pos.payments import rsa
from pos.payments.settings import CONFIG_FILE

ALIPAY_APP_ID = "2021000000000001"
ALIPAY_SELLER_ID = "2088000000000001"
WECHAT_APPID = "wx0000000000000001"
WECHAT_MCHID = "1900000001"
_ALNUM = string.ascii_letters + string.digits


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


@dataclass(frozen=True)
class SandboxKeys:
    directory: Path
    alipay_app_private: rsa.PrivateKey
    alipay_platform_private: rsa.PrivateKey
    wechat_merchant_private: rsa.PrivateKey
    wechat_merchant_serial: str
    wechat_platform_private: rsa.PrivateKey
    wechat_platform_serial: str
    wechat_apiv3_key: bytes
    wechat_v2_key: str

    @classmethod
    def load_or_create(cls, data_dir: Path) -> SandboxKeys:
        d = data_dir / "sandbox"
        d.mkdir(parents=True, exist_ok=True)
        meta_path = d / "keys.json"
        if not meta_path.exists():
            for name in ("alipay_app", "alipay_platform", "wechat_merchant", "wechat_platform"):
                key = rsa.generate()
                _write_private(d / f"{name}_private.pem", rsa.private_pem(key))
                (d / f"{name}_public.pem").write_bytes(rsa.public_pem(key.public_key()))
            _write_private(
                d / "wechat_apiv3.key", "".join(secrets.choice(_ALNUM) for _ in range(32)).encode()
            )
            _write_private(
                d / "wechat_v2.key", "".join(secrets.choice(_ALNUM) for _ in range(32)).encode()
            )
            meta = {
                "wechat_merchant_serial": secrets.token_hex(20).upper(),
                "wechat_platform_serial": secrets.token_hex(20).upper(),
            }
            meta_path.write_text(json.dumps(meta, indent=2))
        meta = json.loads(meta_path.read_text())

        def load(name: str) -> rsa.PrivateKey:
            return rsa.load_private_key((d / f"{name}_private.pem").read_bytes(), name)

        return cls(
            directory=d,
            alipay_app_private=load("alipay_app"),
            alipay_platform_private=load("alipay_platform"),
            wechat_merchant_private=load("wechat_merchant"),
            wechat_merchant_serial=meta["wechat_merchant_serial"],
            wechat_platform_private=load("wechat_platform"),
            wechat_platform_serial=meta["wechat_platform_serial"],
            wechat_apiv3_key=(d / "wechat_apiv3.key").read_bytes().strip(),
            wechat_v2_key=(d / "wechat_v2.key").read_bytes().decode().strip(),
        )

    def terminal_config(self, base_url: str, **overrides: Any) -> dict[str, dict[str, Any]]:
        """payments.json sections for the terminal, pointing at a sandbox on base_url."""
        d = "sandbox"
        common = {k: v for k, v in overrides.items() if v is not None}
        return {
            "alipay": {
                "gateway": f"{base_url}/gateway.do",
                "app_id": ALIPAY_APP_ID,
                "private_key_file": f"{d}/alipay_app_private.pem",
                "alipay_public_key_file": f"{d}/alipay_platform_public.pem",
                **common,
            },
            "wechat": {
                "base_url": base_url,
                "appid": WECHAT_APPID,
                "mchid": WECHAT_MCHID,
                "private_key_file": f"{d}/wechat_merchant_private.pem",
                "serial_no": self.wechat_merchant_serial,
                "platform_certificates": {
                    self.wechat_platform_serial: f"{d}/wechat_platform_public.pem"
                },
                "apiv3_key_file": f"{d}/wechat_apiv3.key",
                "v2_key_file": f"{d}/wechat_v2.key",
                **common,
            },
        }


def write_terminal_config(data_dir: Path, sections: dict[str, dict[str, Any]]) -> Path:
    """Merge the sandbox sections into payments.json (other channels' sections kept)."""
    path = data_dir / CONFIG_FILE
    doc: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    doc.update(sections)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
    tmp.replace(path)
    return path
