"""The 8217 scale driver against the emulated scale over a real pseudo-terminal:
the same pyserial port, device thread and frames as on /dev/ttyUSB0."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from drivers.scale import open_scale
from drivers.scale.client import SerialScale
from drivers.scale.emulator import EmulatedScale
from drivers.scale.protocol import Unit
from pos.messages import Message
from pos.scale import ScaleError, ScaleState


@pytest.fixture
def emu() -> Iterator[EmulatedScale]:
    with EmulatedScale() as scale:
        yield scale


@pytest.fixture
def scale(emu: EmulatedScale) -> Iterator[SerialScale]:
    with open_scale(emu.port) as s:
        yield s


class Shown:
    def __init__(self) -> None:
        self.codes: list[str] = []

    def show(self, message: Message) -> None:
        self.codes.append(message.code)


def test_a_stable_weight_reads_as_integer_grams(emu: EmulatedScale, scale: SerialScale) -> None:
    emu.place(1234)
    w = scale.read_stable(2.0)
    assert (w.grams, w.state, w.stable) == (1234, ScaleState.STABLE, True)
    assert emu.requests == [b"W"]


def test_an_unsettled_weight_is_waited_out_until_stable(
    emu: EmulatedScale, scale: SerialScale
) -> None:
    emu.place(2500, settle=3)
    assert scale.read().state is ScaleState.MOTION
    shown = Shown()
    w = scale.read_stable(3.0, shown)
    assert w.grams == 2500 and w.stable
    assert shown.codes == ["scale.state.motion"]
    assert len(emu.requests) == 4


def test_a_weight_that_never_settles_ends_the_wait_saying_so(
    emu: EmulatedScale, scale: SerialScale
) -> None:
    emu.place(800, settle=1000)
    t0 = time.monotonic()
    with pytest.raises(ScaleError) as err:
        scale.read_stable(0.6)
    assert err.value.code == "scale.state.motion"
    assert time.monotonic() - t0 < 2.0


def test_overload_is_refused_at_once_with_what_to_do(
    emu: EmulatedScale, scale: SerialScale
) -> None:
    emu.overload()
    assert scale.read().state is ScaleState.OVERLOAD
    with pytest.raises(ScaleError) as err:
        scale.read_stable(5.0)
    assert err.value.code == "scale.state.overload"
    assert "分次称重" in err.value.render("zh_CN")


def test_below_zero_is_refused_and_zeroing_clears_it(
    emu: EmulatedScale, scale: SerialScale
) -> None:
    emu.below_zero()
    with pytest.raises(ScaleError) as err:
        scale.read_stable(5.0)
    assert err.value.code == "scale.state.under_zero"
    zeroed = scale.zero()
    assert zeroed.at_zero and zeroed.state is ScaleState.STABLE
    assert scale.read().grams == 0


def test_an_empty_platter_is_not_a_weight(emu: EmulatedScale, scale: SerialScale) -> None:
    emu.place(0)
    with pytest.raises(ScaleError) as err:
        scale.read_stable(0.4)
    assert err.value.code == "scale.empty"


def test_pulling_the_cable_mid_read_is_a_clear_error_not_a_hang(
    emu: EmulatedScale, scale: SerialScale
) -> None:
    emu.place(900, settle=10_000)
    result: list[BaseException] = []

    def weigh() -> None:
        try:
            scale.read_stable(30.0)
        except ScaleError as exc:
            result.append(exc)

    t = threading.Thread(target=weigh)
    t0 = time.monotonic()
    t.start()
    time.sleep(0.3)
    emu.unplug()
    t.join(timeout=5)
    assert not t.is_alive(), "the read hung after the scale was unplugged"
    assert time.monotonic() - t0 < 5
    assert isinstance(result[0], ScaleError)
    assert result[0].code in ("scale.disconnected", "scale.cannot_open")
    assert "{" not in result[0].render("zh_CN")
    # The next request tries the port again and says it cannot open it.
    with pytest.raises(ScaleError) as err:
        scale.read()
    assert err.value.code == "scale.cannot_open"


def test_a_scale_plugged_back_in_is_read_again(emu: EmulatedScale) -> None:
    calls: list[str] = []
    replacement: list[EmulatedScale] = []

    def opener(port: str) -> object:
        from drivers.scale.client import open_serial

        calls.append(port)
        target = replacement[0].port if replacement else port
        return open_serial(target)

    with SerialScale(emu.port, opener=opener) as scale:
        emu.place(300)
        assert scale.read().grams == 300
        emu.unplug()
        with pytest.raises(ScaleError):
            scale.read()
        with EmulatedScale() as again:
            replacement.append(again)
            again.place(700)
            assert scale.read().grams == 700
    assert len(calls) >= 2


def test_garbage_around_an_answer_is_skipped(emu: EmulatedScale, scale: SerialScale) -> None:
    emu.place(1500)
    emu.noise(b"\xff\x00junk\x02?\r\x1b@\x02" + b"9" * 40 + b"\r\x02x1.5\r")
    assert scale.read_stable(2.0).grams == 1500


def test_a_scale_that_only_babbles_is_reported_as_unreadable(
    emu: EmulatedScale, scale: SerialScale
) -> None:
    emu.noise(b"\x02hello\r\xfe\xfd")
    emu.silent()
    t0 = time.monotonic()
    with pytest.raises(ScaleError) as err:
        scale.read(0.5)
    assert err.value.code == "scale.garbled"
    assert time.monotonic() - t0 < 2.0


def test_a_silent_scale_is_no_answer_within_the_timeout(
    emu: EmulatedScale, scale: SerialScale
) -> None:
    emu.silent()
    t0 = time.monotonic()
    with pytest.raises(ScaleError) as err:
        scale.read(0.5)
    assert err.value.code == "scale.no_answer"
    assert time.monotonic() - t0 < 2.0


def test_a_port_that_does_not_exist_cannot_be_opened() -> None:
    with SerialScale("/dev/does-not-exist-scale") as scale, pytest.raises(ScaleError) as err:
        scale.read()
    assert err.value.code == "scale.cannot_open"
    assert "/dev/does-not-exist-scale" in err.value.render("en")


@pytest.mark.parametrize(("unit", "grams"), [(Unit.G, 1234), (Unit.LB, 454)])
def test_scales_set_to_grams_or_pounds_read_in_grams(unit: Unit, grams: int) -> None:
    with EmulatedScale(unit) as emu, SerialScale(emu.port, unit) as scale:
        emu.place(grams)
        assert scale.read_stable(2.0).grams == grams


def test_zeroing_with_a_load_on_the_platter_is_refused_by_the_scale(
    emu: EmulatedScale, scale: SerialScale
) -> None:
    emu.place(2500)
    assert not scale.zero().at_zero
    assert scale.read().grams == 2500
