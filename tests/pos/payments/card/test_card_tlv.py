from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos.payments.card.tlv import (
    Tlv,
    TlvError,
    encode,
    encode_constructed,
    find_value,
    flatten,
    parse,
    tag_bytes,
)


def test_multi_byte_tags_and_long_lengths_parse():
    value = bytes(range(200))
    data = encode(0x9F4B, value) + encode(0x5F2A, b"\x01\x56")
    tlvs = parse(data)
    assert data[2:4] == b"\x81\xc8"
    assert [t.tag for t in tlvs] == [0x9F4B, 0x5F2A]
    assert tlvs[0].value == value


def test_constructed_objects_parse_their_children():
    inner = encode_constructed(0xA5, [encode(0x50, b"VISA")])
    data = encode_constructed(0x70, [encode(0x5A, b"\x12\x34"), inner])
    tlvs = parse(data)
    assert find_value(tlvs, 0x50) == b"VISA"
    assert flatten(tlvs) == {0x5A: b"\x12\x34", 0x50: b"VISA"}


def test_padding_between_objects_is_skipped():
    data = b"\x00\x00" + encode(0x57, b"\x01") + b"\xff\xff"
    assert parse(data) == [Tlv(0x57, b"\x01")]


@pytest.mark.parametrize(
    "data, words",
    [
        (b"\x9f", "cut short"),
        (b"\x9f\x02", "data ended"),
        (b"\x5a\x80", "indefinite"),
        (b"\x5a\x85\x00\x00\x00\x00\x01", "not allowed"),
        (b"\x5a\x05\x01\x02", "5 bytes"),
        (b"\x9f\x81\x81\x81\x01\x00", "longer than 4"),
        (b"\x5a\x82\x01", "cut short"),
    ],
)
def test_malformed_data_is_a_clear_tlv_error(data, words):
    with pytest.raises(TlvError) as err:
        parse(data)
    assert words in err.value.message
    assert err.value.remedy


def test_deep_nesting_is_refused_not_a_recursion_error():
    data = b""
    for _ in range(40):
        data = encode(0x70, data or b"\x5a\x00")
    with pytest.raises(TlvError):
        parse(data)


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_data_or_a_tlv_error(data):
    try:
        tlvs = parse(data)
    except TlvError as exc:
        assert exc.message.startswith("malformed card data")
    else:
        assert all(isinstance(t.value, bytes) for t in tlvs)


_tags = st.sampled_from([0x5A, 0x57, 0x9F02, 0x9F4B, 0x5F2A, 0xDF8101, 0x50])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(_tags, st.binary(max_size=400)), max_size=6))
def test_encoded_objects_parse_back_to_themselves(items):
    data = b"".join(encode(t, v) for t, v in items)
    assert [(t.tag, t.value) for t in parse(data)] == items


def test_tag_bytes_keep_the_multi_byte_form():
    assert tag_bytes(0x9F36) == b"\x9f\x36"
    assert tag_bytes(0x82) == b"\x82"
    assert tag_bytes(0xDF8101) == b"\xdf\x81\x01"


@pytest.mark.parametrize("tag", [0, 0x9F, 0x5A01, 0x9F7F01, 0x9F81])
def test_impossible_tags_are_refused(tag):
    with pytest.raises(TlvError):
        encode(tag, b"")
