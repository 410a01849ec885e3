from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.barcode import ScanKind, normalize_gtin, parse_scan
from pos.catalog import HEADER, CatalogImportError, Product, parse_catalog_csv
from pos.errors import InvalidInput
from pos.money import Money

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo_catalog.csv"
HEAD = ",".join(HEADER) + "\n"


def test_demo_catalog_is_a_realistic_valid_store() -> None:
    products = parse_catalog_csv(DEMO.read_text(encoding="utf-8"))
    assert 35 <= len(products) <= 50
    for p in products:
        assert p.name_zh != p.name_en
        for code in p.barcodes:
            assert normalize_gtin(code) == code
    weighed = [p for p in products if p.sold_by_weight]
    assert len(weighed) >= 4
    for p in weighed:
        assert parse_scan(p.barcodes[0]).kind is ScanKind.WEIGHTED
    gift = [p for p in products if p.tax_class == "exempt"]
    assert len(gift) == 1 and gift[0].unit_price == Money(10000)


def test_barcodes_are_normalised_and_flags_read() -> None:
    text = HEAD + "A1,036000291452|96385074,可乐,Cola,3.5,standard,yes,0\n"
    [p] = parse_catalog_csv(text)
    assert p.barcodes == ("0036000291452", "96385074")
    assert p.unit_price == Money(350)
    assert p.active and not p.sold_by_weight


def test_excel_bom_and_blank_lines_are_accepted() -> None:
    text = "\ufeff" + HEAD + "\nA1,,可乐,Cola,3.50,standard,1,0\n\n"
    assert [p.sku for p in parse_catalog_csv(text)] == ["A1"]


def test_import_is_all_or_nothing_and_lists_every_bad_row() -> None:
    text = (
        HEAD
        + "A1,4006381333931,可乐,Cola,3.50,standard,1,0\n"
        + "A2,4006381333932,雪碧,Sprite,3.50,standard,1,0\n"  # bad check digit
        + "A3,,芬达,Fanta,3.505,standard,1,0\n"  # too many decimals
        + "A4,,水,Water,2.00,luxury,1,0\n"  # unknown tax class
        + "A5,,茶,Tea,2.00,standard,maybe,0\n"  # bad flag
        + "A6,,,Juice,2.00,standard,1,0\n"  # no Chinese name
        + "A7,,奶,Milk,2.00,standard,1\n"  # missing column
        + "A8,,奶,Milk,-2.00,standard,1,0\n"  # negative price
        + "A9,,金,Gold,99999999999999999999,standard,1,0\n"  # beyond any price
        + "B1,,可乐\x1bp\x00\x19,Cola,3.50,standard,1,0\n"  # ESC p: the drawer kick
    )
    with pytest.raises(CatalogImportError) as err:
        parse_catalog_csv(text)
    lines = [n for n, _ in err.value.problems]
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "more than any amount" in err.value.problems[-2][1].render("en")
    assert "control character U+001B" in err.value.problems[-1][1].render("en")
    assert "check digit" in err.value.problems[0][1].render("en")
    assert "校验位" in err.value.problems[0][1].render("zh_CN")
    assert "nothing was changed" in err.value.render("en")
    assert "第 3 行" in err.value.render("zh_CN") and "未做任何更改" in err.value.render("zh_CN")


def test_duplicate_skus_and_barcodes_are_reported_on_the_later_row() -> None:
    text = (
        HEAD
        + "A1,4006381333931,可乐,Cola,3.50,standard,1,0\n"
        + "A1,,可乐,Cola,3.50,standard,1,0\n"
        + "A2,4006381333931,雪碧,Sprite,3.50,standard,1,0\n"
        + "A3,036000291452|0036000291452,水,Water,1.00,standard,1,0\n"
    )
    with pytest.raises(CatalogImportError) as err:
        parse_catalog_csv(text)
    assert [(n, m.render("en")) for n, m in err.value.problems] == [
        (3, "SKU A1 is already on line 2"),
        (4, "barcode 4006381333931 is already on line 2"),
        (5, "the same barcode is listed twice"),
    ]


def test_wrong_header_is_refused() -> None:
    with pytest.raises(CatalogImportError) as err:
        parse_catalog_csv("sku,name,price\nA1,Cola,3.50\n")
    assert err.value.problems[0][0] == 1


def test_product_survives_a_round_trip_and_bad_data_is_refused() -> None:
    [p] = parse_catalog_csv(HEAD + "A1,4006381333931,可乐,Cola,3.50,reduced,1,0\n")
    assert Product.from_dict(p.to_dict()) == p
    broken = {**p.to_dict(), "unit_price_minor": 3.5}
    with pytest.raises(InvalidInput):
        Product.from_dict(broken)
    with pytest.raises(InvalidInput):
        Product.from_dict({"sku": "A1"})


@given(st.text(max_size=300))
def test_any_file_imports_or_names_its_bad_rows(body: str) -> None:
    try:
        products = parse_catalog_csv(HEAD + body)
    except CatalogImportError as exc:
        assert exc.problems and all(n >= 1 for n, _ in exc.problems)
    else:
        assert len({p.sku for p in products}) == len(products)
