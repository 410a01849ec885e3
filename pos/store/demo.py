"""What a terminal with the demo keystore may do: sandbox payments only.

Its keys sit in a plain file, so it must never move real money: a payment
channel whose settings name any endpoint off this machine (not loopback) is
not started on it.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pos.messages import Message, msg

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_demo_terminal(data_dir: Path) -> bool:
    """True when terminal.json in `data_dir` names the demo keystore."""
    try:
        doc: Any = json.loads((Path(data_dir) / "terminal.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("keystore") == "demo"


def _urls(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if "://" in value:
            yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _urls(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _urls(item)


def _loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_live_endpoints(channel: str, section: Mapping[str, Any]) -> Message | None:
    """Why `channel` may not start on a demo terminal, or None when every
    endpoint its settings name is on this machine (the sandboxes)."""
    live = sorted({url for url in _urls(section) if not _loopback(url)})
    if not live:
        return None
    return msg("store.demo_live_endpoint", channel=channel, url=live[0])
