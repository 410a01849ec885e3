"""The card channel's codes as the cashier reads them, in English and
Chinese, each with the next step: the acquirer's ISO 8583 response codes
(field 39), the EMV authorisation response codes the terminal gives the card
(Y3, Z3), and the channel's own outcomes. Registered as the "card" catalogue
of pos.payments.errors."""

from __future__ import annotations

_T = tuple[str, str]

_OTHER_CARD = (
    "Ask for another card or another way to pay.",
    "请顾客换一张卡或换一种方式付款。",
)
_OTHER_WAY = ("Ask the shopper to pay another way.", "请顾客换一种方式付款。")
_LATER = (
    "Try again in a moment, or ask the shopper to pay another way.",
    "请稍后重试，或请顾客换一种方式付款。",
)
_MANAGER = ("Call the manager to check the card settings.", "请联系店长检查银行卡设置。")


def _t(en: str, zh: str, step: _T) -> _T:
    return f"{en} {step[0]}", f"{zh}{step[1]}"


CATALOGUE: dict[str, _T] = {
    # Acquirer response codes (field 39).
    "05": _t("The bank declined the card.", "发卡行拒绝了此卡。", _OTHER_CARD),
    "12": _t("The bank refused the transaction as invalid.", "银行认为交易无效。", _MANAGER),
    "14": _t("The bank does not know this card number.", "银行无法识别此卡号。", _OTHER_CARD),
    "51": _t("Not enough money on the card.", "卡内余额不足。", _OTHER_CARD),
    "54": _t("The card has expired.", "此卡已过期。", _OTHER_CARD),
    "62": _t("The card's bank has restricted this card.", "此卡已被发卡行限制使用。", _OTHER_WAY),
    "88": _t(
        "The bank could not verify the card's chip; do not retry with this card.",
        "银行校验芯片数据失败，请勿用此卡重试。",
        _OTHER_WAY,
    ),
    "91": _t("The card's bank is not answering.", "发卡行暂时无法响应。", _LATER),
    "96": _t(
        "The bank's system had an error; nothing was charged.",
        "银行系统故障，未扣款。",
        _LATER,
    ),
    # What the terminal tells the card when the bank gave no answer.
    "Y3": (
        "Approved offline by the card; the terminal sends it to the bank once it is online.",
        "卡片已脱机批准；联网后终端会自动上送银行。",
    ),
    "Z3": _t(
        "The bank could not be reached and the card declined offline; nothing was charged.",
        "无法连接银行，卡片拒绝脱机交易，未扣款。",
        _LATER,
    ),
    # The channel's own outcomes.
    "card_declined": _t("The card declined the payment.", "卡片拒绝了本次交易。", _OTHER_CARD),
    "host_unreachable": _t(
        "The bank cannot be reached and this payment may not be approved offline; "
        "nothing was charged.",
        "无法连接银行，且本笔交易不允许脱机批准，未扣款。",
        _LATER,
    ),
    "card_removed": (
        "The card was removed before the payment finished; it did not go through. "
        "Insert it again and leave it in until the terminal says to remove it.",
        "交易完成前卡片被拔出，交易未成功。请重新插卡，待终端提示后再取卡。",
    ),
    "reversal_pending": (
        "The bank's answer did not arrive; the terminal is cancelling the payment with the "
        "bank. Do not take another card payment for this order until that is confirmed.",
        "未收到银行应答，终端正在向银行冲正。确认前请勿为该订单再次刷卡。",
    ),
    "reversed": _t(
        "The card payment was cancelled with the bank; no money was taken.",
        "本笔银行卡交易已向银行冲正，未扣款。",
        _OTHER_WAY,
    ),
    "cancelled": (
        "Cancelled before a card was inserted; nothing was charged.",
        "插卡前已取消，未扣款。",
    ),
    "no_card": _t(
        "No card was inserted in time.",
        "未在规定时间内插卡。",
        ("Start the payment again.", "请重新发起支付。"),
    ),
    "card_error": _t(
        "The card could not be read.",
        "无法读取卡片。",
        (
            "Check the chip is clean and insert it again, or pay another way.",
            "请检查芯片是否清洁后重新插卡，或换一种方式付款。",
        ),
    ),
    "not_forwarded": (
        "This offline card payment has not reached the bank yet; run `pos card forward`, "
        "then refund it.",
        "该脱机交易尚未上送银行；请先执行 `pos card forward`，再退款。",
    ),
}
