"""The JSON bodies terminal and server exchange. The server validates with
these and publishes them in its OpenAPI description; the client builds and
reads the same shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pos.store.journal_format import JournalRecord

HEX64 = r"^[0-9a-f]{64}$"
HEX128 = r"^[0-9a-f]{128}$"
ID = r"^[A-Za-z0-9_.:-]{1,64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnrolRequest(_Strict):
    code: str = Field(min_length=6, max_length=64)
    terminal_id: str = Field(pattern=ID)
    store_id: str = Field(pattern=ID)
    public_key: str = Field(pattern=HEX64, description="Ed25519 public key, 32 bytes as hex")
    box_key: str | None = Field(
        None, pattern=HEX64, description="a one-time X25519 public key for the card-token key, hex"
    )


class CardKeyRequest(_Strict):
    box_key: str = Field(pattern=HEX64, description="a one-time X25519 public key, hex")


class CardKeyDelivery(_Strict):
    """The chain's card-token key sealed to one request's box key (sync.cardkey)."""

    terminal_id: str
    generation: int
    box_key: str = Field(pattern=HEX64)
    ephemeral_key: str = Field(pattern=HEX64, description="the server's one-time X25519 key")
    sealed: str = Field(description="nonce + AES-256-GCM ciphertext, hex")
    signature: str = Field(pattern=HEX128, description="the server's signature over the fields")


class EnrolResponse(_Strict):
    terminal_id: str
    store_id: str
    server_key: str = Field(description="the server's Ed25519 public key to pin, hex")
    hwm: int
    card_key: CardKeyDelivery | None = None


class WireEntry(_Strict):
    seq: int = Field(ge=1)
    time: str = Field(max_length=32)
    type: str = Field(max_length=64)
    payload: str = Field(description="the payload's canonical JSON text, exactly as hashed")

    def record(self, terminal_id: str) -> JournalRecord:
        return JournalRecord(
            terminal_id,
            self.seq,
            self.time,
            self.type,
            self.payload,
            self.prev_hash,
            self.hash,
            self.signature,
        )

    @classmethod
    def of(cls, r: JournalRecord, validate: bool = True) -> WireEntry:
        """The wire form of a record; `validate=False` skips pydantic's checks
        (the terminal's own records, which the server validates anyway)."""
        make = cls if validate else cls.model_construct
        return make(
            seq=r.seq,
            time=r.time,
            type=r.type,
            payload=r.payload,
            prev_hash=r.prev_hash,
            hash=r.hash,
            signature=r.signature,
        )

    prev_hash: str = Field(pattern=HEX64)
    hash: str = Field(pattern=HEX64)
    signature: str = Field(pattern=HEX128, description="Ed25519 signature over the raw hash, hex")


class UploadRequest(_Strict):
    terminal_id: str = Field(pattern=ID)
    entries: list[WireEntry] = Field(min_length=1, max_length=10_000)


class Ack(_Strict):
    hwm: int = Field(description="every entry up to and including this sequence is stored")
    last_hash: str
    stored: int = 0
    duplicates: int = 0


class Refusal(_Strict):
    error: str
    detail: str
    remedy: str = ""
    hwm: int | None = None


class ConfigVersion(_Strict):
    version: int
    kind: str
    store_id: str | None
    sha256: str
    created_at: str
    body: str = Field(description="the configuration document, base64")
    signature: str = Field(description="server's Ed25519 signature over the canonical header, hex")


class ConfigList(_Strict):
    versions: list[ConfigVersion]


class KeyLink(_Strict):
    generation: int
    server_key: str = Field(description="the server's Ed25519 public key of this generation, hex")
    endorsement: str | None = Field(
        None, description="the previous generation's signature over this key (none for the first)"
    )


class KeyChain(_Strict):
    keys: list[KeyLink]


class StoreAlert(_Strict):
    """A chain risk alert about the terminal's own store (sync.server.risk)."""

    id: int
    rule: str
    terminal_id: str
    subject: str
    value: str
    created_at: str
    detail: dict[str, object] = Field(default_factory=dict)


class StoreAlerts(_Strict):
    alerts: list[StoreAlert]
