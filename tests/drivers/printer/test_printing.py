from __future__ import annotations

from dataclasses import replace

import pytest

from drivers.printer import EscPosReceiptPrinter, open_printer
from drivers.printer.emulator import EmulatedPrinter, EscPosDecoder
from drivers.printer.jobs import receipt_job
from drivers.printer.queue import JobState
from drivers.printer.status import PrinterStatus
from pos.clock import SystemClock
from pos.receipt import Receipt, render_text

FAST = (0.05, 0.05, 0.05)


def _open(printer: EmulatedPrinter, delays: tuple[float, ...] = FAST) -> EscPosReceiptPrinter:
    return open_printer(printer.address, SystemClock(), retry_delays=delays, timeout=2.0)


def _stripped(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def test_receipt_read_back_from_the_bytes_the_printer_received(
    printer: EmulatedPrinter, receipt: Receipt
) -> None:
    device = _open(printer)
    try:
        job = device.print_receipt(receipt)
        assert device.queue.wait(job, 10).state is JobState.DONE
    finally:
        device.close()
    [printout] = printer.wait_for(1)
    assert printout.cut
    assert printout.qr_codes == [receipt.lookup_code]
    assert printer.unknown == []
    # Every line of the text receipt came out of the printer, Chinese included.
    expected = [ln for ln in _stripped(render_text(receipt, 42)) if not ln.startswith("[QR")]
    assert _stripped(printout.text()) == expected
    header = printout.lines[0]
    assert header.text == "好邻居便利店" and header.double and header.bold
    assert header.align == "center"
    total = next(ln for ln in printout.lines if ln.text.startswith("合计"))
    assert total.bold and total.text.endswith(receipt.total.amount_text())
    assert any("**** 4321" in ln.text for ln in printout.lines)
    assert not any("622848" in ln.text for ln in printout.lines)


def test_decoder_reads_the_same_receipt_fed_one_byte_at_a_time(receipt: Receipt) -> None:
    data = receipt_job(receipt, 32, "en")
    whole, trickle = EscPosDecoder(), EscPosDecoder()
    whole.feed(data)
    for i in range(len(data)):
        trickle.feed(data[i : i + 1])
    assert [p.text() for p in trickle.printouts] == [p.text() for p in whole.printouts]
    assert trickle.printouts[0].qr_codes == [receipt.lookup_code]
    assert trickle.unknown == [] and len(whole.printouts) == 1


def test_open_cover_is_reported_and_the_receipt_prints_once_it_is_closed(
    printer: EmulatedPrinter, receipt: Receipt
) -> None:
    printer.status = PrinterStatus(online=True, cover_open=True)
    seen: list[str] = []
    device = _open(printer, delays=(0.05,) * 200)
    device.queue._on_change = lambda view: seen.append(view.error_code)
    try:
        job = device.print_receipt(receipt)
        device.queue.wait(job, 0.5)
        view = device.job(job)
        assert view.state is JobState.WAITING
        assert view.error_code == "cover_open"
        assert "Close the printer cover" in view.remedy and "打印机盖" in view.error_zh
        printer.status = PrinterStatus(online=True)
        assert device.queue.wait(job, 10).state is JobState.DONE
    finally:
        device.close()
    assert len(printer.wait_for(1)) == 1
    assert "cover_open" in seen


def test_paper_out_fails_after_the_retries_and_prints_when_retried(
    printer: EmulatedPrinter, receipt: Receipt
) -> None:
    printer.status = PrinterStatus(online=True, paper_out=True)
    device = _open(printer)
    try:
        job = device.print_receipt(receipt)
        failed = device.queue.wait(job, 10)
        assert failed.state is JobState.FAILED
        assert failed.error_code == "paper_out" and failed.attempts == len(FAST) + 1
        assert printer.printouts == []
        printer.status = PrinterStatus(online=True)
        device.queue.retry(job)
        assert device.queue.wait(job, 10).state is JobState.DONE
    finally:
        device.close()
    assert len(printer.wait_for(1)) == 1


def test_an_unreachable_printer_never_holds_up_the_caller(receipt: Receipt) -> None:
    with EmulatedPrinter() as gone:
        address = gone.address
    device = open_printer(address, SystemClock(), retry_delays=FAST, timeout=0.5)
    try:
        job = device.print_receipt(receipt)
        assert device.job(job).state in (JobState.QUEUED, JobState.PRINTING, JobState.WAITING)
        failed = device.queue.wait(job, 15)
        assert failed.state is JobState.FAILED
        assert failed.error_code == "printer_unreachable"
        assert "cable or network" in failed.remedy
    finally:
        device.close()


def test_drawer_opens_on_a_printer_without_paper_but_not_on_one_switched_off(
    printer: EmulatedPrinter,
) -> None:
    printer.status = PrinterStatus(online=True, paper_out=True)
    device = _open(printer)
    try:
        assert device.queue.wait(device.open_drawer(), 10).state is JobState.DONE
        printer.status = PrinterStatus(online=False)
        failed = device.queue.wait(device.open_drawer(), 10)
    finally:
        device.close()
    assert printer.drawer_kicks == [2]
    assert failed.state is JobState.FAILED and failed.error_code == "printer_offline"


def test_receipts_print_in_the_order_they_were_handed_in(
    printer: EmulatedPrinter, receipt: Receipt
) -> None:
    device = _open(printer)
    numbers = [f"20260105-{n:04d}" for n in range(1, 6)]
    try:
        jobs = [
            device.print_receipt(replace(receipt, info=replace(receipt.info, receipt_no=n)))
            for n in numbers
        ]
        assert all(device.queue.wait(j, 10).state is JobState.DONE for j in jobs)
    finally:
        device.close()
    printed = printer.wait_for(5)
    assert [p.qr_codes[0].rsplit(":", 1)[1] for p in printed] == numbers


def test_a_reprint_comes_out_marked_reprint(printer: EmulatedPrinter, receipt: Receipt) -> None:
    device = _open(printer)
    try:
        job = device.print_receipt(replace(receipt, info=replace(receipt.info, reprint=True)))
        assert device.queue.wait(job, 10).state is JobState.DONE
        assert device.job(job).kind == "reprint"
    finally:
        device.close()
    assert "*** 重印 ***" in printer.wait_for(1)[0].text()


def test_a_cancelled_job_never_prints(printer: EmulatedPrinter, receipt: Receipt) -> None:
    printer.status = PrinterStatus(online=False)
    device = _open(printer, delays=(0.05,) * 200)
    try:
        job = device.print_receipt(receipt)
        device.queue.wait(job, 0.3)
        device.queue.cancel(job)
        printer.status = PrinterStatus(online=True)
        after = device.print_lines("test", "test page", ["hello"])
        assert device.queue.wait(after, 10).state is JobState.DONE
        assert device.job(job).state is JobState.CANCELLED
    finally:
        device.close()
    assert [p.text() for p in printer.wait_for(1)] == ["hello"]


@pytest.mark.parametrize("width", [32, 42, 48])
def test_every_paper_width_prints_without_unknown_commands(
    printer: EmulatedPrinter, receipt: Receipt, width: int
) -> None:
    device = open_printer(printer.address, SystemClock(), width=width, retry_delays=FAST)
    try:
        assert device.queue.wait(device.print_receipt(receipt), 10).state is JobState.DONE
    finally:
        device.close()
    assert printer.wait_for(1)[0].cut and printer.unknown == []


def test_control_characters_in_printed_text_never_reach_the_printer_as_commands(
    receipt: Receipt,
) -> None:
    """A name or a gateway's reference holding ESC p (the drawer kick) or GS V
    (the cut) prints as text, and the drawer stays shut."""
    kick, cut = "\x1bp\x00\x19\xfa", "\x1dV\x00"
    line = replace(receipt.lines[0], name_zh=f"可乐{kick}{cut}")
    data = receipt_job(replace(receipt, lines=(line, *receipt.lines[1:])), 42, "zh")
    decoder = EscPosDecoder()
    decoder.feed(data)
    assert decoder.drawer_kicks == [] and decoder.unknown == []
    [printout] = decoder.printouts  # one cut: the receipt's own
    assert any("可乐?p?" in ln.text for ln in printout.lines)
