"""Which of the terminal's server URLs to use: the one in use while it
answers; when it fails, the next in the list whose health check passes; a
failed URL rests for a while (full-jitter exponential backoff) before it is
tried again.

Every server behind these URLs serves the same database and signs with the
same key (sync.server.identity), so any of them may take any request; the
journal upload's exactly-once rules hold across them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from pos.errors import InvalidInput
from pos.messages import msg

MAX_URLS = 16


def checked_urls(urls: Sequence[str]) -> list[str]:
    """The list as given, without trailing slashes or repeats; refuses what
    is not an http(s) URL with a host."""
    out: list[str] = []
    for url in urls:
        text = url.strip().rstrip("/")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(msg("sync.bad_server_url", url=url))
        if text not in out:
            out.append(text)
    if not out or len(out) > MAX_URLS:
        raise InvalidInput(msg("sync.server_count", most=MAX_URLS))
    return out


@dataclass
class _Health:
    failures: int = 0
    resting_until: float = 0.0


@dataclass
class ServerChoice:
    """The URLs in order of preference and each one's recent failures."""

    urls: list[str]
    probe: Callable[[str], bool]
    monotonic: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    base_rest: float = 1.0
    max_rest: float = 60.0
    in_use: str = ""
    _health: dict[str, _Health] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.urls = checked_urls(self.urls)
        self.in_use = self.in_use if self.in_use in self.urls else self.urls[0]

    def replace(self, urls: Sequence[str]) -> None:
        """A new list (from configuration); the URL in use stays if listed."""
        self.urls = checked_urls(urls)
        if self.in_use not in self.urls:
            self.in_use = self.urls[0]

    def _state(self, url: str) -> _Health:
        return self._health.setdefault(url, _Health())

    def resting(self, url: str) -> bool:
        return self._state(url).resting_until > self.monotonic()

    def pick(self) -> str:
        """The URL for the next request: the one in use unless it is resting;
        else the first rested URL (in list order) whose health check answers;
        else the one whose rest ends first (it may be back)."""
        if not self.resting(self.in_use):
            return self.in_use
        for url in self.urls:
            if url != self.in_use and not self.resting(url) and self.probe(url):
                self.in_use = url
                return url
        self.in_use = min(self.urls, key=lambda u: self._state(u).resting_until)
        return self.in_use

    def failed(self, url: str) -> None:
        """`url` did not answer: it rests, longer each time in a row."""
        h = self._state(url)
        h.failures += 1
        ceiling = min(self.max_rest, self.base_rest * 2 ** min(h.failures - 1, 30))
        h.resting_until = self.monotonic() + self.rng.uniform(ceiling / 2, ceiling)

    def answered(self, url: str) -> None:
        self._health[url] = _Health()

    def alternative(self) -> bool:
        """Whether some URL other than the one in use is not resting."""
        return any(u != self.in_use and not self.resting(u) for u in self.urls)


def healthz(client: httpx.Client, url: str, timeout: float = 2.0) -> bool:
    """The server at `url` answers its health check."""
    try:
        return client.get(f"{url}/healthz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False
