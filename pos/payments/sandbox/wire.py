"""What a sandbox gateway hands back to the HTTP layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=utf-8"


@dataclass(frozen=True)
class Call:
    """One HTTP request as a gateway sees it."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str


def beijing(ts: datetime) -> str:
    return (ts + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")


def fen_to_yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"
