"""Card profiles: what an emulated card holds. Test card numbers are
Luhn-valid and come from ranges the sandbox issuer knows."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pos.payments.card.issuer_keys import sandbox_issuer_key
from pos.payments.card.pan import luhn_check_digit

ATR_T1 = bytes.fromhex("3B80800101")
ATR_T0 = bytes.fromhex("3B021450")

CDOL1_STANDARD = bytes.fromhex("9F02069F03069F1A0295055F2A029A039C019F37049F35019F3403")
CDOL2_STANDARD = bytes.fromhex("8A02910A95059F3704")
# CVM lists (8E): amounts X and Y, then rules. 42 03 = online PIN if the
# terminal supports it, else next; 1E 03 = signature if supported; 1F 03 = no CVM.
CVM_SIGNATURE_OR_NONE = bytes(8) + bytes.fromhex("42031E031F03")
CVM_PIN_ONLY = bytes(8) + bytes.fromhex("0200")


def _pan(body: str) -> str:
    return body + luhn_check_digit(body)


@dataclass(frozen=True)
class AppSpec:
    aid: bytes
    label: str
    priority: int | None = None
    preferred_name: str | None = None


@dataclass(frozen=True)
class CardProfile:
    name: str
    pan: str = field(repr=False)
    cardholder: str
    applications: tuple[AppSpec, ...]
    issuer_key_label: str
    expiry: str = "301231"  # YYMMDD
    effective: str = "200101"
    psn: str = "01"
    pse: bool = True
    t0: bool = False
    # With t0, GET RESPONSE hands out at most this many bytes at a time (61XX chains).
    t0_chunk: int = 256
    gpo_format: int = 2
    pdol: bytes = b""
    cdol1: bytes = CDOL1_STANDARD
    cdol2: bytes = CDOL2_STANDARD
    cvm_list: bytes = CVM_SIGNATURE_OR_NONE
    aip: bytes = bytes.fromhex("1C00")
    auc: bytes = bytes.fromhex("FF00")
    app_version: bytes = bytes.fromhex("008C")
    issuer_country: bytes = bytes.fromhex("0156")
    app_currency: bytes = bytes.fromhex("0156")
    service_code: str = "201"
    lower_offline_limit: int | None = 3
    upper_offline_limit: int | None = 5
    iac_denial: bytes = bytes(5)
    iac_online: bytes = bytes.fromhex("F040008000")
    iac_default: bytes = bytes.fromhex("0000000000")
    atc: int = 0x0010
    last_online_atc: int = 0x000F
    # Overrides the sandbox key (a card of another issuer, or a forged one).
    issuer_master_key: bytes | None = field(default=None, repr=False)

    @property
    def atr(self) -> bytes:
        return ATR_T0 if self.t0 else ATR_T1

    @property
    def imk(self) -> bytes:
        return self.issuer_master_key or sandbox_issuer_key(self.issuer_key_label)

    def with_(self, **changes: object) -> CardProfile:
        return replace(self, **changes)  # type: ignore[arg-type]


VISA = CardProfile(
    name="visa",
    pan=_pan("476173900101001"),
    cardholder="ZHANG/WEI",
    applications=(AppSpec(bytes.fromhex("A0000000031010"), "VISA CREDIT", 1),),
    issuer_key_label="visa",
)

MASTERCARD = CardProfile(
    name="mastercard",
    pan=_pan("541333008901001"),
    cardholder="LI/NA",
    applications=(AppSpec(bytes.fromhex("A0000000041010"), "MASTERCARD", 1, "Mastercard"),),
    issuer_key_label="mastercard",
    gpo_format=1,
    cdol1=CDOL1_STANDARD + bytes.fromhex("9F21039F7C14"),
    psn="00",
)

UNIONPAY = CardProfile(
    name="unionpay",
    pan=_pan("623456789012345678"),
    cardholder="WANG/FANG",
    applications=(
        AppSpec(bytes.fromhex("A000000333010101"), "UnionPay Debit", 2, "银联借记卡"),
        AppSpec(bytes.fromhex("A000000333010102"), "UnionPay Credit", 1, "银联信用卡"),
    ),
    issuer_key_label="unionpay",
    pdol=bytes.fromhex("9F7A019F02065F2A02"),
    t0=True,
    t0_chunk=48,
)

AMEX = CardProfile(
    name="amex",
    pan=_pan("37424242424242"),
    cardholder="CHEN/JIE",
    applications=(AppSpec(bytes.fromhex("A00000002501"), "AMERICAN EXPRESS", 1),),
    issuer_key_label="amex",
    pse=False,
    gpo_format=1,
    psn="00",
)

JCB = CardProfile(
    name="jcb",
    pan=_pan("353011133330000"),
    cardholder="SATO/YUKI",
    applications=(AppSpec(bytes.fromhex("A0000000651010"), "JCB CREDIT", 1),),
    issuer_key_label="jcb",
    pse=False,
    t0=True,
    expiry="291130",
)

DISCOVER = CardProfile(
    name="discover",
    pan=_pan("601100000000000"),
    cardholder="ZHAO/LEI",
    applications=(AppSpec(bytes.fromhex("A0000001523010"), "DISCOVER", 1),),
    issuer_key_label="discover",
)

PIN_ONLY = VISA.with_(name="visa-pin", pan=_pan("476173900101002"), cvm_list=CVM_PIN_ONLY)
EXPIRED = MASTERCARD.with_(name="mastercard-expired", pan=_pan("541333008901002"), expiry="240131")

PROFILES: dict[str, CardProfile] = {
    p.name: p for p in (VISA, MASTERCARD, UNIONPAY, AMEX, JCB, DISCOVER, PIN_ONLY, EXPIRED)
}
