"""Issuer master keys by card-number prefix, as an issuer (here: the sandbox
issuer) holds them. The sandbox keys are derived from a public label: they
protect nothing and exist so that the emulated cards and the sandbox issuer
agree without a key file."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from pos.errors import NotFound
from pos.messages import msg


def sandbox_issuer_key(label: str) -> bytes:
    return hashlib.sha256(b"store-checkout sandbox issuer master key/" + label.encode()).digest()[
        :16
    ]


@dataclass(frozen=True)
class IssuerKeys:
    """Issuer master keys (AC) by PAN prefix; the longest matching prefix wins."""

    by_prefix: Mapping[str, bytes] = field(default_factory=dict)

    def key_for(self, pan: str) -> bytes:
        best = ""
        for prefix in self.by_prefix:
            if pan.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        if not best:
            raise NotFound(msg("card.error.no_issuer_key"))
        return self.by_prefix[best]


# The card ranges of the emulated test cards, by the label their key derives from.
SANDBOX_RANGES: dict[str, str] = {
    "476173": "visa",
    "541333": "mastercard",
    "623456": "unionpay",
    "374242": "amex",
    "353011": "jcb",
    "601100": "discover",
}


def sandbox_issuer_keys() -> IssuerKeys:
    return IssuerKeys(
        {prefix: sandbox_issuer_key(label) for prefix, label in SANDBOX_RANGES.items()}
    )
