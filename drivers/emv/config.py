"""The terminal's EMV parameters. The defaults describe this product: an
attended, online-capable terminal with a PC/SC reader and no PIN pad, that
performs no offline data authentication (so its action codes send every
transaction online first; offline approval happens only when the host
cannot be reached)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TerminalConfig:
    country_code: bytes = bytes.fromhex("0156")
    terminal_type: int = 0x22  # attended, online with offline capability, merchant
    # 9F33: IC with contacts; CVM: signature, no CVM required; no ODA.
    capabilities: bytes = bytes.fromhex("202800")
    additional_capabilities: bytes = bytes.fromhex("6000008001")
    app_version: bytes = bytes.fromhex("008C")
    ifd_serial: bytes = b"POS00001"
    floor_limit_minor: int = 0
    random_threshold_minor: int = 0
    random_target_percent: int = 0
    random_max_percent: int = 0
    tac_denial: bytes = bytes.fromhex("0010000000")
    tac_online: bytes = bytes.fromhex("DC4004F800")
    # Declining offline: expired, service not allowed, new card, verification
    # failed, upper consecutive offline limit exceeded.
    tac_default: bytes = bytes.fromhex("0058802000")
    online_capable: bool = True
    card_timeout_s: float = 60.0

    def supports_signature(self) -> bool:
        return bool(self.capabilities[1] & 0x20)

    def supports_no_cvm(self) -> bool:
        return bool(self.capabilities[1] & 0x08)
