"""The card PaymentChannel: the EMV flow on a CardTerminal, online
authorisation with the acquirer, reversal when the answer does not come or
the card refuses the approval, and offline approval within the policy when
the host cannot be reached.

`start` blocks for the whole card session and returns a final status, or
UNKNOWN when a reversal could not be delivered yet; `query` and `cancel`
deliver it then. Nothing about the card is kept but the masked PAN, the
card token, and EMV and host codes (pos.payments.card.ledger)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from pos.clock import Clock
from pos.errors import PosError
from pos.events import Event
from pos.messages import msg
from pos.money import Money
from pos.payments import rsa
from pos.payments.card import iso8583 as m
from pos.payments.card.acquirer import AcquirerClient, HostUnreachable, NoAnswer
from pos.payments.card.ledger import CardLedger
from pos.payments.card.offline import OfflineForwarder, OfflinePolicy
from pos.payments.card.pan import card_token
from pos.payments.card.port import (
    CardCompletion,
    CardNotInserted,
    CardRead,
    CardRequest,
    CardSessionLost,
    CardTerminal,
    CardWaitCancelled,
    numeric_currency,
)
from pos.payments.card.sealed import seal_card
from pos.payments.card.tlv import flatten, parse
from pos.payments.channel import (
    Capabilities,
    ChannelResult,
    Notice,
    PaymentHandler,
    PaymentIntent,
    PaymentMode,
    PaymentStatus,
    RefundIntent,
    RefundResult,
    RefundStatus,
)
from pos.payments.errors import notice_with

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfflineRiskQuery:
    """What the risk engine is told before an offline approval: the payment,
    the card's token and its BIN (first six digits). Never the card number."""

    intent: PaymentIntent
    card_token: str
    card_bin: str


# Asked before an offline approval: "" allows it, any other text is why not.
OfflineRisk = Callable[[OfflineRiskQuery], str]

_ARC_DECLINE_UNABLE_ONLINE = "Z3"


def _notice(key: str) -> Notice:
    return notice_with("card", key)


def _read_failure(exc: PosError) -> str:
    """The catalogue code (pos/messages/catalogue/card.toml) of a card session that
    ended before anything was sent."""
    if isinstance(exc, CardSessionLost):
        return "card_removed"
    if isinstance(exc, CardWaitCancelled):
        return "cancelled"
    if isinstance(exc, CardNotInserted):
        return "no_card"
    return "card_error"


@dataclass(frozen=True)
class CardChannelParts:
    terminal: CardTerminal
    ledger: CardLedger
    acquirer: AcquirerClient
    # The card-token key, or where to read it per card: the chain's key can
    # arrive from the server while the till runs.
    card_key: bytes | Callable[[], bytes]
    clock: Clock
    policy: OfflinePolicy = field(default_factory=OfflinePolicy)
    acquirer_key: rsa.PublicKey | None = None  # seals card data for offline approvals
    offline_risk: OfflineRisk | None = None


class CardChannel:
    name = "card"

    def __init__(self, parts: CardChannelParts) -> None:
        self.p = parts
        self.forwarder = OfflineForwarder(parts.ledger, parts.acquirer, parts.clock, parts.policy)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            modes=frozenset({PaymentMode.CARD}),
            currencies=frozenset({"CNY"}),
            needs_network=False,
            payment_timeout=180.0,
        )

    # -- payment ----------------------------------------------------------------

    def start(
        self, intent: PaymentIntent, handler: PaymentHandler, auth_code: str | None = None
    ) -> ChannelResult:
        amount = intent.amount
        stan, rrn = self.p.ledger.open(
            intent.intent_id, intent.order_id, intent.out_trade_no, amount.minor, amount.currency
        )
        offline_refusal = self._offline_refusal(amount)
        request = CardRequest(
            amount,
            self.p.clock.now().astimezone(),
            not offline_refusal,
            cancelled=handler.cancel_requested,
        )
        try:
            read = self.p.terminal.read_card(request)
        except PosError as exc:
            self.p.terminal.end("Remove the card")
            self.p.ledger.update(intent.intent_id, "failed", None, reason=exc.message)
            return ChannelResult(PaymentStatus.FAILED, code=_read_failure(exc), message=exc.message)
        try:
            result = self._run(intent, handler, read, stan, rrn, offline_refusal)
        finally:
            self.p.terminal.end("Remove the card")
        if result.status == PaymentStatus.SUCCEEDED and result.details.get("offline") == "no":
            self._forward_waiting()
        return result

    def _forward_waiting(self) -> None:
        """The host just answered: stored offline approvals go to it now."""
        if self.p.ledger.offline_totals()[0] == 0:
            return
        try:
            report = self.forwarder.forward_pending()
        except PosError as exc:
            log.warning("stored offline card payments not forwarded: %s", exc.message)
            return
        log.info(
            "forwarded stored offline card payments: %d accepted, %d declined, %d waiting",
            report.accepted,
            report.declined,
            report.still_pending,
        )

    def _offline_refusal(self, amount: Money) -> str:
        if self.p.acquirer_key is None:
            return "no acquirer key is configured for offline approvals"
        return self.forwarder.refusal(amount.minor)

    def _card_columns(self, read: CardRead) -> dict[str, object]:
        return {
            "masked_pan": read.masked_pan,
            "card_token": self._token(read),
            "brand": read.brand,
            "aid": read.aid,
            "atc": read.atc,
            "cryptogram_type": read.cryptogram_type,
            "tvr": read.tvr,
            "cvm": read.cvm,
        }

    def _token(self, read: CardRead) -> str:
        key = self.p.card_key() if callable(self.p.card_key) else self.p.card_key
        return card_token(key, read.pan)

    def _details(self, read: CardRead, **extra: str) -> dict[str, str]:
        return {
            "masked_pan": read.masked_pan,
            # The keyed token (never the number): the sale's risk record names the card.
            "card_token": self._token(read),
            "brand": read.brand,
            "aid": read.aid,
            "label": read.label,
            "cvm": read.cvm,
            **extra,
        }

    def _run(
        self,
        intent: PaymentIntent,
        handler: PaymentHandler,
        read: CardRead,
        stan: str,
        rrn: str,
        offline_refusal: str,
    ) -> ChannelResult:
        iid = intent.intent_id
        cols = self._card_columns(read)
        if read.decision == "declined":
            self.p.ledger.update(
                iid, "declined", Event.CARD_DECLINED, reason=read.decline_reason, **cols
            )
            return ChannelResult(
                PaymentStatus.FAILED, code="card_declined", message=read.decline_reason
            )
        if read.decision == "offline":
            return self._approve_offline(intent, read, cols, None)
        self.p.ledger.update(iid, "sent", None, **cols)
        handler.status(_notice("status.authorising"))
        try:
            answer = self.p.acquirer.exchange(self._auth_request(intent, read, stan, rrn))
        except HostUnreachable as exc:
            return self._host_unreachable(intent, handler, read, cols, offline_refusal, exc)
        except NoAnswer as exc:
            self._complete_quietly(_ARC_DECLINE_UNABLE_ONLINE, None)
            return self._reverse(iid, f"no answer from the card host ({exc.message})")
        code = answer.get("39")
        issuer_auth = flatten(parse(answer.icc())).get(0x91) if answer.icc() else None
        auth_code = answer.get("38")
        try:
            done = self.p.terminal.complete(code, issuer_auth)
        except CardSessionLost as exc:
            if code == m.APPROVED:
                return self._reverse(iid, exc.message, response_code=code)
            done = None
        if code != m.APPROVED:
            reason = f"declined by the bank: {m.RESPONSE_TEXT.get(code, code)}"
            self.p.ledger.update(
                iid, "declined", Event.CARD_DECLINED, response_code=code, reason=reason
            )
            return ChannelResult(PaymentStatus.FAILED, code=code, message=reason)
        if done is None or not done.approved:
            reason = done.decline_reason if done else "the card refused the approval"
            return self._reverse(iid, reason, response_code=code, auth_code=auth_code)
        self.p.ledger.update(
            iid,
            "approved",
            Event.CARD_APPROVED,
            response_code=code,
            auth_code=auth_code,
            cryptogram_type=done.cryptogram_type,
            tvr=done.tvr,
        )
        return ChannelResult(
            PaymentStatus.SUCCEEDED,
            channel_ref=rrn,
            paid_amount=intent.amount,
            buyer_ref=read.masked_pan,
            code=code,
            details=self._details(read, auth_code=auth_code, rrn=rrn, offline="no"),
        )

    def _auth_request(
        self, intent: PaymentIntent, read: CardRead, stan: str, rrn: str
    ) -> m.Message:
        now = self.p.clock.now()
        local = now.astimezone()
        cfg = self.p.acquirer.config
        return m.build(
            m.AUTH_REQUEST,
            {
                "2": read.pan,
                "3": m.PURCHASE,
                "4": f"{intent.amount.minor:012d}",
                "7": now.strftime("%m%d%H%M%S"),
                "11": stan,
                "12": local.strftime("%H%M%S"),
                "13": local.strftime("%m%d"),
                "14": read.expiry,
                "22": m.ENTRY_MODE_ICC,
                "23": f"{int(read.psn):03d}" if read.psn else "",
                "35": m.track2_field(read.track2),
                "37": rrn,
                "41": cfg.terminal_id,
                "42": cfg.merchant_id,
                "49": numeric_currency(intent.amount.currency),
            },
            read.icc_data,
        )

    def _host_unreachable(
        self,
        intent: PaymentIntent,
        handler: PaymentHandler,
        read: CardRead,
        cols: dict[str, object],
        refusal: str,
        exc: HostUnreachable,
    ) -> ChannelResult:
        risk = self.p.offline_risk
        if not refusal and risk is not None:
            query = OfflineRiskQuery(intent, str(cols["card_token"]), read.masked_pan[:6])
            why = risk(query)
            refusal = f"the risk rules do not allow this card offline ({why})" if why else ""
        if refusal:
            self._complete_quietly(_ARC_DECLINE_UNABLE_ONLINE, None)
            reason = f"{exc.message}; {refusal}"
            self.p.ledger.update(intent.intent_id, "failed", Event.CARD_DECLINED, reason=reason)
            return ChannelResult(PaymentStatus.FAILED, code="host_unreachable", message=reason)
        handler.status(_notice("status.asking_offline"))
        try:
            done = self.p.terminal.complete(None, None)
        except CardSessionLost as lost:
            self.p.ledger.update(
                intent.intent_id, "failed", Event.CARD_DECLINED, reason=lost.message
            )
            return ChannelResult(PaymentStatus.FAILED, code="card_removed", message=lost.message)
        if not done.approved:
            reason = f"{exc.message}; the card declined offline"
            self.p.ledger.update(intent.intent_id, "declined", Event.CARD_DECLINED, reason=reason)
            return ChannelResult(PaymentStatus.FAILED, code="Z3", message=reason)
        return self._approve_offline(intent, read, cols, done)

    def _approve_offline(
        self,
        intent: PaymentIntent,
        read: CardRead,
        cols: dict[str, object],
        done: CardCompletion | None,
    ) -> ChannelResult:
        key = self.p.acquirer_key
        if key is None:
            raise PosError(msg("card.error.no_acquirer_key"))
        sealed = seal_card(key, read.pan, read.expiry)
        icc = done.icc_data if done else read.icc_data
        final = {"cryptogram_type": done.cryptogram_type, "tvr": done.tvr} if done else {}
        self.p.ledger.store_offline(
            intent.intent_id, sealed, icc, **{**cols, **final, "response_code": "Y3"}
        )
        row = self.p.ledger.get(intent.intent_id) or {}
        return ChannelResult(
            PaymentStatus.SUCCEEDED,
            channel_ref=str(row.get("rrn", "")),
            paid_amount=intent.amount,
            buyer_ref=read.masked_pan,
            code="Y3",
            message="approved offline; forwarded when the bank is reachable",
            details=self._details(read, offline="yes", rrn=str(row.get("rrn", ""))),
        )

    def _complete_quietly(self, arc: str, issuer_auth: bytes | None) -> None:
        """Tells the card the outcome when only the card's own state is at stake."""
        try:
            self.p.terminal.complete(arc, issuer_auth)
        except PosError as exc:
            log.info("card not told the outcome: %s", exc.message)

    # -- reversal ---------------------------------------------------------------

    def _reverse(self, intent_id: str, reason: str, **columns: str) -> ChannelResult:
        row = self.p.ledger.get(intent_id)
        if row is None:
            return ChannelResult(PaymentStatus.FAILED, message="no card payment was started")
        stan = row["reversal_stan"]
        if not stan:
            with self.p.ledger.db.transaction() as conn:
                stan = self.p.ledger.next_stan(conn)
        self.p.ledger.update(
            intent_id,
            "reversal_pending",
            Event.CARD_REVERSAL_PENDING,
            reason=reason,
            reversal_stan=stan,
            **columns,
        )
        return self._send_reversal(intent_id)

    def _send_reversal(self, intent_id: str) -> ChannelResult:
        row = self.p.ledger.get(intent_id)
        assert row is not None
        cfg = self.p.acquirer.config
        now = self.p.clock.now()
        reversal = m.build(
            m.REVERSAL,
            {
                "3": m.PURCHASE,
                "4": f"{row['amount_minor']:012d}",
                "7": now.strftime("%m%d%H%M%S"),
                "11": row["reversal_stan"],
                "37": row["rrn"],
                "41": cfg.terminal_id,
                "42": cfg.merchant_id,
                "49": numeric_currency(row["currency"]),
                "90": f"{m.AUTH_REQUEST}{row['stan']}".ljust(42, "0"),
            },
        )
        try:
            answer = self.p.acquirer.exchange(reversal)
        except (HostUnreachable, NoAnswer) as exc:
            log.info("reversal of %s not delivered yet: %s", intent_id, exc.message)
            return ChannelResult(
                PaymentStatus.UNKNOWN, code="reversal_pending", message=exc.message
            )
        if answer.get("39") not in (m.APPROVED, "25"):
            return ChannelResult(PaymentStatus.UNKNOWN, code=answer.get("39"), retry_later=True)
        self.p.ledger.update(intent_id, "reversed", Event.CARD_REVERSED)
        return ChannelResult(
            PaymentStatus.CLOSED,
            code="reversed",
            message=f"{row['reason']}; reversal answered {answer.get('39')}",
        )

    # -- after the fact ---------------------------------------------------------

    def query(self, intent: PaymentIntent) -> ChannelResult:
        row = self.p.ledger.get(intent.intent_id)
        if row is None:
            return ChannelResult(PaymentStatus.FAILED, message="no card payment was started")
        state = row["state"]
        if state in ("approved", "offline_approved"):
            return ChannelResult(
                PaymentStatus.SUCCEEDED,
                channel_ref=row["rrn"],
                paid_amount=intent.amount,
                buyer_ref=row["masked_pan"],
                code=row["response_code"],
            )
        if state == "reversed":
            return ChannelResult(PaymentStatus.CLOSED, code=row["response_code"])
        if state == "sent":
            # A crash between the request and its result: never guess, reverse.
            return self._reverse(intent.intent_id, "the result of the authorisation was lost")
        if state == "reversal_pending":
            return self._send_reversal(intent.intent_id)
        if state == "reading":
            self.p.ledger.update(intent.intent_id, "failed", None, reason="stopped before sending")
        return ChannelResult(PaymentStatus.FAILED, code=row["response_code"], message=row["reason"])

    def cancel(self, intent: PaymentIntent) -> ChannelResult:
        row = self.p.ledger.get(intent.intent_id)
        if row is None:
            return ChannelResult(PaymentStatus.CLOSED)
        if row["state"] == "offline_approved":
            pending = {i.intent_id for i in self.p.ledger.offline_items("pending")}
            if intent.intent_id in pending:
                self.p.ledger.forwarded(intent.intent_id, "voided", "")
                return ChannelResult(PaymentStatus.CLOSED, message="offline payment voided")
            return self._reverse(intent.intent_id, "cancelled after forwarding")
        if row["state"] in ("approved", "sent", "reversal_pending"):
            return self._reverse(intent.intent_id, "cancelled")
        result = self.query(intent)
        if result.status == PaymentStatus.FAILED:
            return ChannelResult(PaymentStatus.CLOSED, message=result.message)
        return result

    def close(self, intent: PaymentIntent) -> ChannelResult:
        return self.cancel(intent)

    # -- refunds ------------------------------------------------------------------

    def refund(self, refund: RefundIntent) -> RefundResult:
        row = self.p.ledger.get(refund.payment.intent_id)
        if row is None or row["state"] not in ("approved", "offline_approved"):
            return RefundResult(RefundStatus.FAILED, message="no approved card payment to refund")
        pending = {i.intent_id for i in self.p.ledger.offline_items("pending")}
        if refund.payment.intent_id in pending:
            return RefundResult(
                RefundStatus.FAILED,
                code="not_forwarded",
                message="this offline payment is not forwarded yet; forward it, then refund",
            )
        stan = self.p.ledger.open_refund(
            refund.refund_id, refund.payment.intent_id, refund.amount.minor
        )
        cfg = self.p.acquirer.config
        message = m.build(
            m.FINANCIAL_REQUEST,
            {
                "3": m.REFUND,
                "4": f"{refund.amount.minor:012d}",
                "7": self.p.clock.now().strftime("%m%d%H%M%S"),
                "11": stan,
                "37": row["rrn"],
                "41": cfg.terminal_id,
                "42": cfg.merchant_id,
                "49": numeric_currency(refund.amount.currency),
            },
        )
        try:
            answer = self.p.acquirer.exchange(message)
        except HostUnreachable as exc:
            self.p.ledger.refund_done(refund.refund_id, "failed", "unreachable")
            return RefundResult(RefundStatus.FAILED, code="unreachable", message=exc.message)
        except NoAnswer as exc:
            return RefundResult(RefundStatus.UNKNOWN, message=exc.message)
        code = answer.get("39")
        ok = code == m.APPROVED
        self.p.ledger.refund_done(refund.refund_id, "succeeded" if ok else "failed", code)
        return RefundResult(
            RefundStatus.SUCCEEDED if ok else RefundStatus.FAILED,
            channel_ref=row["rrn"],
            refunded_amount=refund.amount if ok else None,
            code=code,
            message=m.RESPONSE_TEXT.get(code, code),
        )

    def refund_query(self, refund: RefundIntent) -> RefundResult:
        # The host answers a repeated refund (same STAN) with its first answer.
        return self.refund(refund)
