from __future__ import annotations

import os
import select
import threading
import tty

import pytest

from drivers.printer import open_printer
from drivers.printer.emulator import EscPosDecoder
from drivers.printer.queue import JobState
from drivers.printer.status import PrinterOffline, PrinterStatus, decode_status, encode_status
from drivers.printer.transport import PrinterAddress, parse_address
from pos.clock import SystemClock
from pos.errors import InvalidInput
from pos.receipt import Receipt


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("tcp://192.168.1.50:9100", PrinterAddress("tcp", "192.168.1.50", 9100)),
        ("tcp://printer.local", PrinterAddress("tcp", "printer.local", 9100)),
        ("usb://04b8:0202", PrinterAddress("usb", "04b8:0202", 0)),
        (
            "serial:///dev/ttyUSB0?baudrate=38400",
            PrinterAddress("serial", "/dev/ttyUSB0", 0, {"baudrate": "38400"}),
        ),
        ("file:///dev/usb/lp0", PrinterAddress("file", "/dev/usb/lp0", 0)),
    ],
)
def test_printer_addresses_name_every_connection(url: str, expected: PrinterAddress) -> None:
    assert parse_address(url) == expected


@pytest.mark.parametrize(
    "url", ["", "printer", "tcp://", "usb://zz:01", "usb://04b8", "serial://", "lpt://1"]
)
def test_a_bad_printer_address_says_how_to_write_one(url: str) -> None:
    with pytest.raises(InvalidInput, match="not a printer address") as err:
        parse_address(url)
    assert "tcp://HOST:9100" in err.value.remedy


@pytest.mark.parametrize(
    "status",
    [
        PrinterStatus(online=True),
        PrinterStatus(online=False),
        PrinterStatus(online=True, cover_open=True),
        PrinterStatus(online=True, paper_out=True),
        PrinterStatus(online=True, paper_near_end=True),
        PrinterStatus(online=True, error=True),
    ],
)
def test_status_bytes_read_back_as_the_state_they_describe(status: PrinterStatus) -> None:
    answers = encode_status(status)
    assert decode_status(answers[1], answers[2], answers[4]) == status


@pytest.mark.parametrize("answer", [b"", b"\x00", b"\xff", b"A"])
def test_an_answer_that_is_not_a_status_byte_is_a_clear_error(answer: bytes) -> None:
    ok = encode_status(PrinterStatus(online=True))
    with pytest.raises(PrinterOffline, match="no valid printer status"):
        decode_status(answer, ok[2], ok[4])


def test_serial_printer_receives_the_receipt(receipt: Receipt) -> None:
    """A real serial line (a pseudo-terminal) with a printer at the other end."""
    master, slave = os.openpty()
    tty.setraw(slave)
    decoder = EscPosDecoder()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                answer = decoder.feed(os.read(master, 4096))
                if answer:
                    os.write(master, answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    device = open_printer(
        f"serial://{os.ttyname(slave)}?baudrate=115200", SystemClock(), retry_delays=(0.05,)
    )
    try:
        job = device.print_receipt(receipt)
        assert device.queue.wait(job, 10).state is JobState.DONE
        drawer = device.open_drawer()
        assert device.queue.wait(drawer, 10).state is JobState.DONE
    finally:
        device.close()
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)
    assert decoder.printouts[0].qr_codes == [receipt.lookup_code]
    assert "合计" in decoder.printouts[0].text()
    assert decoder.drawer_kicks == [2]
