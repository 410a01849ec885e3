"""What happens when the answer does not come, the card is pulled, or the
card refuses the host's approval: never a guess, always a reversal."""

from __future__ import annotations

from drivers.virtualcard.profiles import VISA
from pos.payments.channel import PaymentStatus


def test_timeout_after_send_is_reversed_and_nothing_is_kept(rig, counter):
    card = counter.hand_over(VISA)
    before = rig.acquirer.balance(VISA.pan)
    rig.acquirer.add_fault("timeout", op="start", after=True, delay=1.5)
    outcome = rig.pay(15_00)
    assert not outcome.paid
    assert outcome.intent.status == PaymentStatus.CLOSED
    assert rig.acquirer.state.messages == ["0100", "0400"]
    assert rig.acquirer.balance(VISA.pan) == before
    assert rig.row(outcome)["state"] == "reversed"
    # The card was told no: its last online ATC did not move.
    assert card.state.last_online_atc != card.state.atc


def test_an_undelivered_reversal_stays_unknown_until_it_goes_through(rig, counter):
    counter.hand_over(VISA)
    before = rig.acquirer.balance(VISA.pan)
    rig.acquirer.add_fault("torn", op="start", after=True)
    rig.acquirer.add_fault("torn", op="cancel", after=False, times=1000)
    outcome = rig.pay(15_00)
    assert outcome.intent.status == PaymentStatus.UNKNOWN
    assert rig.row(outcome)["state"] == "reversal_pending"
    assert rig.acquirer.balance(VISA.pan) == before - 15_00
    rig.acquirer.scenario.faults.clear()
    result = rig.channel.query(outcome.intent)
    assert result.status == PaymentStatus.CLOSED
    assert rig.acquirer.balance(VISA.pan) == before


def test_card_pulled_after_the_host_approved_is_reversed(rig, counter, slot):
    counter.hand_over(VISA)
    before = rig.acquirer.balance(VISA.pan)
    slot.pull_after = 11  # the APDUs up to the first GENERATE AC
    outcome = rig.pay(15_00)
    assert not outcome.paid
    assert rig.acquirer.state.messages == ["0100", "0400"]
    assert rig.acquirer.balance(VISA.pan) == before
    assert "removed" in rig.row(outcome)["reason"]


def test_card_pulled_while_reading_ends_cleanly_with_nothing_sent(rig, counter, slot):
    counter.hand_over(VISA)
    slot.pull_after = 3
    outcome = rig.pay(15_00)
    assert outcome.intent.status == PaymentStatus.FAILED
    assert "removed" in outcome.last.message
    assert rig.acquirer.state.messages == []


def test_a_wrong_arpc_makes_the_card_refuse_and_the_approval_is_reversed(rig, counter):
    counter.hand_over(VISA)
    before = rig.acquirer.balance(VISA.pan)
    rig.acquirer.add_fault("bad_signature", op="start")
    outcome = rig.pay(15_00)
    assert not outcome.paid
    assert rig.acquirer.state.messages == ["0100", "0400"]
    assert rig.acquirer.balance(VISA.pan) == before


def test_a_payment_whose_result_was_lost_in_a_crash_is_reversed_on_query(rig, counter):
    counter.hand_over(VISA)
    outcome = rig.pay(15_00)
    assert outcome.paid
    # As if the terminal died after sending: the row says only "sent".
    rig.ledger.update(outcome.intent.intent_id, "sent")
    result = rig.channel.query(outcome.intent)
    assert result.status == PaymentStatus.CLOSED
    assert rig.acquirer.state.messages == ["0100", "0400"]


def test_cancelling_an_offline_payment_before_forwarding_voids_it(rig, counter):
    counter.hand_over(VISA)
    rig.acquirer.stop()
    outcome = rig.pay(9_00)
    assert outcome.paid
    assert rig.channel.cancel(outcome.intent).status == PaymentStatus.CLOSED
    assert rig.ledger.offline_items("pending") == []
    assert rig.ledger.offline_totals()[0] == 0
