from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.barcode import (
    Measure,
    ScanKind,
    WeightedLayout,
    gs1_check_digit,
    normalize_gtin,
    parse_scan,
    price_verifier_digit,
    with_check_digit,
)
from pos.errors import InvalidInput

WEIGHT_LAYOUT = WeightedLayout(prefix="21", item_digits=5, value_digits=5, measure=Measure.WEIGHT)


def test_valid_ean13_is_a_plain_gtin() -> None:
    scan = parse_scan("4006381333931")
    assert scan.kind is ScanKind.GTIN
    assert scan.code == scan.lookup_key == "4006381333931"


def test_ean8_is_kept_as_eight_digits() -> None:
    assert parse_scan("96385074").lookup_key == "96385074"


def test_upc_a_is_widened_to_gtin13_with_a_leading_zero() -> None:
    scan = parse_scan("036000291452")
    assert scan.lookup_key == "0036000291452"
    assert normalize_gtin("036000291452") == "0036000291452"


def test_scanner_whitespace_and_line_ending_are_ignored() -> None:
    assert parse_scan(" 4006381333931\r\n").code == "4006381333931"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("4006381333932", "wrong check digit"),
        ("96385075", "wrong check digit"),
        ("036000291453", "wrong check digit"),
        ("400638133393", "wrong check digit"),
        ("40063813339", "11 digits"),
        ("40063813339311", "14 digits"),
        ("4006381a33931", "digits only"),
        ("４００６３８１３３３９３１", "digits only"),  # full-width digits
        ("٤٠٠٦٣٨١٣٣٣٩٣١", "digits only"),  # Arabic-Indic digits
        ("", "was empty"),
        ("   ", "was empty"),
    ],
)
def test_bad_scans_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_scan(text)
    assert reason in err.value.message
    # The next step, in both languages.
    assert "Scan the item again" in err.value.render("en")
    assert "请重新扫描" in err.value.render("zh_CN")


def test_default_layout_reads_an_embedded_price_in_fen() -> None:
    code = with_check_digit("2" + "000102" + "01234")
    scan = parse_scan(code)
    assert scan.kind is ScanKind.WEIGHTED
    assert (scan.item_code, scan.price_minor, scan.grams) == ("000102", 1234, None)
    assert scan.lookup_key == "2000102000005"
    assert parse_scan(scan.lookup_key).lookup_key == scan.lookup_key


def test_weight_layout_reads_grams_and_longest_prefix_wins() -> None:
    layouts = (WeightedLayout(), WEIGHT_LAYOUT)
    weighed = parse_scan(with_check_digit("21" + "00101" + "00750"), layouts)
    assert (weighed.item_code, weighed.grams, weighed.price_minor) == ("00101", 750, None)
    priced = parse_scan(with_check_digit("20" + "00101" + "00750"), layouts)
    assert priced.price_minor == 750  # "2" catches the rest of the 2x range


def test_price_verifier_digits_match_the_gs1_worked_examples() -> None:
    assert price_verifier_digit("2875") == 9
    assert price_verifier_digit("14685") == 6


def test_price_verifier_layout_catches_a_misread_price_the_check_digit_misses() -> None:
    layout = WeightedLayout(prefix="2", item_digits=5, value_digits=5, price_verifier=True)
    good = with_check_digit("2" + "00102" + str(price_verifier_digit("14685")) + "14685")
    assert parse_scan(good, [layout]).price_minor == 14685
    # A different price with a freshly valid check digit but the old verifier.
    forged = with_check_digit("2" + "00102" + str(price_verifier_digit("14685")) + "14695")
    with pytest.raises(InvalidInput, match="price-verifier"):
        parse_scan(forged, [layout])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prefix": "3"},
        {"prefix": "2x"},
        {"prefix": "200"},
        {"item_digits": 4},
        {"value_digits": 3, "item_digits": 8, "price_verifier": True},
        {"item_digits": 0, "value_digits": 11},
    ],
)
def test_impossible_layouts_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        WeightedLayout(**kwargs)  # type: ignore[arg-type]


def test_layout_survives_a_round_trip_through_settings() -> None:
    assert WeightedLayout.from_dict(WEIGHT_LAYOUT.to_dict()) == WEIGHT_LAYOUT
    with pytest.raises(InvalidInput):
        WeightedLayout.from_dict({"prefix": "2"})
    with pytest.raises(InvalidInput):
        WeightedLayout.from_dict({**WEIGHT_LAYOUT.to_dict(), "measure": "volume"})


digit_bodies = st.sampled_from([7, 11, 12]).flatmap(
    lambda n: st.text("0123456789", min_size=n, max_size=n)
)


@given(digit_bodies)
def test_check_digits_round_trip(body: str) -> None:
    code = with_check_digit(body)
    scan = parse_scan(code, layouts=())
    assert scan.code.endswith(code)


@given(
    st.text("0123456789", min_size=12, max_size=12),
    st.integers(min_value=0, max_value=12),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_wrong_digit_is_caught(body: str, position: int, shift: int) -> None:
    code = with_check_digit(body)
    wrong = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    with pytest.raises(InvalidInput):
        parse_scan(wrong, layouts=())


@given(st.text(max_size=40))
def test_any_text_gives_a_scan_or_invalid_input(text: str) -> None:
    try:
        scan = parse_scan(text, (WeightedLayout(), WEIGHT_LAYOUT))
    except InvalidInput as exc:
        assert exc.message
    else:
        assert scan.lookup_key.isascii() and scan.lookup_key.isdigit()


def test_gs1_check_digit_refuses_non_digits() -> None:
    with pytest.raises(InvalidInput):
        gs1_check_digit("12a")
    with pytest.raises(InvalidInput):
        price_verifier_digit("123")
