"""Weighing scales on a serial port (Toledo 8217 protocol): finding the ports,
opening a scale, and the `Scale` port (pos.scale) the till reads.

plugin: `serial_ports` and `open_scale` (here); client: `SerialScale`
(drivers.scale.client, the device thread); handler: `ScaleHandler`
(drivers.scale.handler, what the cashier is asked while weighing).
"""

from __future__ import annotations

from serial.tools import list_ports

from drivers.scale.client import SerialScale
from drivers.scale.protocol import Unit


def serial_ports() -> list[str]:
    """Serial devices a scale may be on, e.g. /dev/ttyUSB0."""
    return sorted(p.device for p in list_ports.comports())


def open_scale(port: str, unit: str = "kg") -> SerialScale:
    """A scale on `port` (opened on the first request, so a scale switched
    on later is found then)."""
    return SerialScale(port, Unit(unit))
