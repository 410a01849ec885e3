"""Card sales end to end: router -> card channel -> pyscard -> pcscd -> vpcd
-> emulated card, and ISO 8583 to the sandbox acquirer on loopback."""

from __future__ import annotations

from drivers.virtualcard.profiles import EXPIRED, MASTERCARD, PIN_ONLY, UNIONPAY, VISA
from pos.payments.card.issuer_keys import sandbox_issuer_key
from pos.payments.card.offline import OfflinePolicy
from pos.payments.channel import PaymentStatus
from tests.integration.card.card_rig import build_rig
from tests.integration.card.conftest import Shown


def test_card_sale_approved_online(rig, counter):
    card = counter.hand_over(VISA)
    before = rig.acquirer.balance(VISA.pan)
    outcome = rig.pay(12_34)
    assert outcome.paid, outcome.notice
    assert outcome.last.details["masked_pan"] == "476173******" + VISA.pan[-4:]
    assert outcome.last.details["offline"] == "no"
    assert rig.acquirer.balance(VISA.pan) == before - 12_34
    row = rig.row(outcome)
    assert row["state"] == "approved" and row["cryptogram_type"] == "TC"
    assert len(str(row["auth_code"])) == 6
    # The card verified the issuer's ARPC and recorded an online transaction.
    assert card.state.last_online_atc == card.state.atc
    assert rig.acquirer.state.messages == ["0100"]


def test_unionpay_t0_card_with_two_applications_is_approved(rig, counter):
    counter.hand_over(UNIONPAY)
    counter.choose_index = 1
    outcome = rig.pay(88_00)
    assert outcome.paid
    assert counter.choices == [["银联信用卡", "银联借记卡"]]
    assert rig.row(outcome)["aid"] == "A000000333010101"


def test_card_sale_declined_for_insufficient_funds(rig, counter):
    counter.hand_over(MASTERCARD)
    rig.acquirer.set_account(MASTERCARD.pan, balance_minor=10_00)
    outcome = rig.pay(25_00)
    assert outcome.intent.status == PaymentStatus.FAILED
    assert outcome.last.code == "51"
    assert "insufficient funds" in outcome.last.message
    assert rig.acquirer.balance(MASTERCARD.pan) == 10_00
    assert rig.row(outcome)["state"] == "declined"


def test_blocked_and_expired_cards_are_declined_by_the_issuer(rig, counter):
    rig.acquirer.set_account(VISA.pan, balance_minor=10**6, blocked=True)
    counter.hand_over(VISA)
    assert rig.pay(5_00).last.code == "62"
    counter.hand_over(EXPIRED)
    outcome = rig.pay(5_00)
    assert outcome.last.code == "54"
    assert not outcome.paid


def test_a_cryptogram_under_a_wrong_key_is_declined(rig, counter):
    counter.hand_over(VISA.with_(issuer_master_key=sandbox_issuer_key("forged")))
    outcome = rig.pay(5_00)
    assert outcome.last.code == "88"
    assert not outcome.paid


def test_a_pin_only_card_is_declined_before_anything_is_sent(rig, counter):
    counter.hand_over(PIN_ONLY)
    outcome = rig.pay(5_00)
    assert not outcome.paid
    assert "PIN" in outcome.last.message
    assert rig.acquirer.state.messages == []


def test_card_sale_approved_offline_then_forwarded(rig, counter):
    counter.hand_over(VISA)
    port = rig.acquirer.address[1]
    rig.acquirer.stop()
    outcome = rig.pay(30_00)
    assert outcome.paid
    assert outcome.last.code == "Y3" and outcome.last.details["offline"] == "yes"
    assert rig.row(outcome)["state"] == "offline_approved"
    assert [i.intent_id for i in rig.ledger.offline_items("pending")] == [outcome.intent.intent_id]

    back = rig.acquirer.restarted(port)
    try:
        report = rig.channel.forwarder.forward_pending()
        assert (report.accepted, report.declined, report.still_pending) == (1, 0, 0)
        assert back.state.messages == ["0220"]
        assert back.balance(VISA.pan) == back.default_balance_minor - 30_00
        assert rig.ledger.offline_items("accepted")[0].intent_id == outcome.intent.intent_id
        # Forwarding twice sends nothing more.
        assert rig.channel.forwarder.forward_pending().accepted == 0
    finally:
        back.stop()


def test_offline_decline_after_forwarding_is_kept_for_the_manager(rig, counter):
    counter.hand_over(MASTERCARD)
    port = rig.acquirer.address[1]
    rig.acquirer.stop()
    outcome = rig.pay(40_00)
    assert outcome.paid
    back = rig.acquirer.restarted(port)
    try:
        back.set_account(MASTERCARD.pan, balance_minor=1_00)
        report = rig.channel.forwarder.forward_pending()
        assert report.declined == 1
        waiting = rig.ledger.unreviewed_declines()
        assert [(w.intent_id, w.response_code) for w in waiting] == [
            (outcome.intent.intent_id, "51")
        ]
        assert waiting[0].masked_pan.startswith("541333")
        rig.ledger.review(outcome.intent.intent_id, "M-1")
        assert rig.ledger.unreviewed_declines() == []
    finally:
        back.stop()


def test_offline_limits_refuse_over_the_caps_and_after_24_hours(tmp_terminal, counter, acquirer):
    policy = OfflinePolicy(per_transaction_cap_minor=50_00, total_cap_minor=80_00)
    rig = build_rig(tmp_terminal, acquirer, counter, Shown(), policy=policy)
    acquirer.stop()
    counter.hand_over(VISA)
    over = rig.pay(60_00)
    assert not over.paid and "per payment" in over.last.message
    counter.hand_over(VISA)
    assert rig.pay(50_00).paid
    counter.hand_over(MASTERCARD)
    total = rig.pay(40_00)
    assert not total.paid and "total" in total.last.message
    counter.hand_over(MASTERCARD)
    assert rig.pay(20_00).paid
    rig.clock.advance(25 * 3600)
    counter.hand_over(UNIONPAY)
    old = rig.pay(1_00)
    assert not old.paid and "24 hours" in old.last.message


def test_risk_rules_can_refuse_an_offline_approval(tmp_terminal, counter, acquirer):
    asked = []

    def risk(query):
        asked.append(query)
        return "offline card payments are capped"

    rig = build_rig(tmp_terminal, acquirer, counter, Shown(), offline_risk=risk)
    acquirer.stop()
    counter.hand_over(VISA)
    outcome = rig.pay(10_00)
    assert not outcome.paid and "offline card payments are capped" in outcome.last.message
    assert outcome.last.code == "host_unreachable"
    query = asked[0]
    assert len(query.card_token) == 64 and query.card_bin == VISA.pan[:6]
    assert VISA.pan not in repr(query)


def test_refund_goes_back_through_the_acquirer(rig, counter):
    counter.hand_over(VISA)
    outcome = rig.pay(20_00)
    before = rig.acquirer.balance(VISA.pan)
    refund = rig.router.refund(outcome.intent, outcome.intent.amount.scale(1, 2), "returned")
    assert refund.status.value == "succeeded", refund
    assert rig.acquirer.balance(VISA.pan) == before + 10_00
