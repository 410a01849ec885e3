"""Card inserted to ARQC over pcscd: terminal-side time and APDU count, as a
ratio to a bare SELECT round trip measured in the same run on the same path
(pyscard -> pcscd -> vpcd -> emulated card).

Run: pytest tests/benchmarks/test_card_bench.py -s   (needs pcscd with vpcd)"""

from __future__ import annotations

import statistics
import time
from datetime import datetime

import pytest

pytest.importorskip("smartcard")

from drivers.emv import apdu
from drivers.emv.aids import PSE_NAME
from drivers.handler import CliCardHandler
from drivers.pcsc.reader import PcscTransport
from drivers.pcsc.terminal import PcscCardTerminal
from drivers.virtualcard.card import EmvCard
from drivers.virtualcard.profiles import MASTERCARD, UNIONPAY, VISA
from drivers.virtualcard.vpcd import VirtualCardSlot
from pos.clock import SystemClock
from pos.money import Money
from pos.payments.card.port import CardRequest
from tests.integration.card.conftest import READER, pcscd, wait_slot_state  # noqa: F401

ROUNDS = 15
# Commands the flow needs for these cards, counted by hand from EMV Book 3:
# SELECT PSE, READ RECORD (directory entry), READ RECORD (6A83: end of the
# directory), final SELECT AID, GPO, READ RECORD x3 (the AFL), GET DATA ATC,
# GET DATA last online ATC (velocity checks), GENERATE AC.
NEEDED_COMMANDS = 11


def _quiet() -> CliCardHandler:
    import io

    return CliCardHandler(out=io.StringIO(), interactive=False)


def test_card_inserted_to_arqc(pcscd, record):  # noqa: F811
    clock = SystemClock()
    slot = VirtualCardSlot()
    figures: dict[str, object] = {}
    try:
        wait_slot_state(False)
        slot.insert(EmvCard(VISA))
        wait_slot_state(True)
        transport = PcscTransport(READER, clock)
        select = apdu.select(PSE_NAME)
        baseline = []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            transport.transmit(select)
            baseline.append(time.perf_counter() - t0)
        transport.close()
        slot.remove()

        for profile in (VISA, MASTERCARD, UNIONPAY):
            times, counts, commands = [], [], []
            for _ in range(ROUNDS):
                wait_slot_state(False)
                card = EmvCard(profile)
                slot.insert(card)
                wait_slot_state(True)
                terminal = PcscCardTerminal(_quiet(), clock, reader=READER)
                read = terminal.read_card(
                    CardRequest(Money(12_34), datetime.now().astimezone(), True)
                )
                assert read.cryptogram_type == "ARQC"
                times.append(read.elapsed_ms)
                counts.append(read.apdu_count)
                commands.append(card.apdus_seen)
                terminal.complete("Z3", None)
                terminal.end("done")
                terminal.close()
                slot.remove()
            median_ms = statistics.median(times)
            figures[profile.name] = {
                "median_ms": round(median_ms, 2),
                "p95_ms": round(sorted(times)[int(0.95 * len(times)) - 1], 2),
                "apdus_on_wire": counts[0],
                "ratio_to_select_round_trip": round(
                    median_ms / (statistics.median(baseline) * 1000), 1
                ),
            }
            assert median_ms <= 300, figures
        figures["select_round_trip_ms"] = round(statistics.median(baseline) * 1000, 3)
        figures["commands_needed"] = NEEDED_COMMANDS
        # T=1 cards: one APDU per command the flow needs, nothing redundant.
        assert figures["visa"]["apdus_on_wire"] == NEEDED_COMMANDS  # type: ignore[index]
    finally:
        slot.remove()
    record("card_insert_to_arqc", figures)
