"""Finding products without a barcode: pinyin spellings and initials, ranking,
and the search index following every change to the catalog."""

from __future__ import annotations

import io
import json

from pos.catalog import Product
from pos.cli.context import CliContext
from pos.cli.main import build_parser
from pos.money import Money
from pos.search_keys import MAX_READINGS, PINYIN, pinyin_spellings
from pos.services.catalog_import import import_products
from pos.services.terminal_services import TerminalServices


def _product(sku: str, zh: str, en: str, *barcodes: str) -> Product:
    return Product(sku=sku, barcodes=barcodes, name_zh=zh, name_en=en, unit_price=Money(350))


def _add(services: TerminalServices, *products: Product, replace: bool = False) -> None:
    t = services.terminal
    import_products(t.db, t.journal, t.clock, list(products), replace=replace, source="test")


def _skus(services: TerminalServices, text: str) -> list[str]:
    return [p.sku for p in services.checkout.search(text)]


def test_full_pinyin_and_initials_list_coca_cola_first(services) -> None:
    assert _skus(services, "kekoukele")[0] == "DRK-001"
    assert _skus(services, "kkkl")[0] == "DRK-001"
    assert _skus(services, "KeKou")[0] == "DRK-001"
    assert _skus(services, "ke kou ke le")[0] == "DRK-001"


def test_pinyin_in_the_middle_of_a_name_is_found_by_substring(services) -> None:
    _add(services, _product("CHO-9", "德芙巧克力 43g", "Dove chocolate 43g"))
    assert "CHO-9" in _skus(services, "qiaokeli")
    assert "CHO-9" in _skus(services, "dfqkl")


def test_exact_then_prefix_then_pinyin_then_substring(services) -> None:
    _add(
        services,
        _product("A-1", "可乐", "Cola"),
        _product("A-2", "可乐 330ml", "Cola 330ml"),
        _product("A-3", "百事可乐", "Pepsi"),
        _product("A-4", "kele 糖", "Kele candy"),
        _product("A-5", "克勒咖啡", "Kele coffee"),
    )
    # "kele": A-4 starts with it by name, A-5 and the colas only by pinyin.
    found = _skus(services, "kele")
    assert found[0] == "A-4"
    assert found.index("A-5") < found.index("A-3")
    # "可乐": the exact name, then a name starting with it, then one containing it.
    found = _skus(services, "可乐")
    assert found[:2] == ["A-1", "A-2"]
    assert found.index("A-2") < found.index("A-3")


def test_sku_and_barcode_match_exactly_before_anything_else(services) -> None:
    assert _skus(services, "drk-002")[0] == "DRK-002"
    assert _skus(services, "6901234000030")[0] == "DRK-003"


def test_a_later_word_of_a_name_ranks_before_a_substring(services) -> None:
    _add(services, _product("W-1", "测试水", "Xwater test"), _product("W-2", "水", "Still water"))
    found = _skus(services, "water")
    assert found.index("W-2") < found.index("W-1")


def test_polyphonic_characters_give_a_few_readings_not_every_combination() -> None:
    # 重 chong/zhong, 长 chang/zhang, 行 hang/xing, 乐 le/yue: the phrase
    # dictionary settles most; what is left gives at most MAX_READINGS spellings.
    full, initials = pinyin_spellings("重长行乐和了得还为")
    assert 2 <= len(full) <= MAX_READINGS and 1 <= len(initials) <= MAX_READINGS
    assert pinyin_spellings("银行卡")[0][0] == "yinhangka"
    assert pinyin_spellings("绿茶") == (["lvcha", "lucha"], ["lc"])
    assert pinyin_spellings("Zero Cola") == ([], [])


def test_a_renamed_product_is_found_by_its_new_pinyin_only(services) -> None:
    _add(services, _product("R-1", "雪碧", "Sprite"))
    assert _skus(services, "xuebi")[0] == "R-1"
    _add(services, _product("R-1", "芬达", "Fanta"))
    assert "R-1" not in _skus(services, "xuebi")
    assert _skus(services, "fenda")[0] == "R-1"
    with services.terminal.db.read() as conn:
        keys = [r[0] for r in conn.execute("SELECT key FROM product_keys WHERE sku = 'R-1'")]
    assert "xuebi" not in keys and "fenda" in keys


def test_a_product_left_out_of_a_replacing_import_is_not_found(services) -> None:
    _add(services, _product("ONLY-1", "可口可乐 1L", "Coca-Cola 1L"), replace=True)
    assert _skus(services, "kkkl") == ["ONLY-1"]
    with services.terminal.db.read() as conn:
        left = conn.execute(
            "SELECT count(*) FROM product_keys WHERE sku = 'DRK-001' AND kind = ?", (PINYIN,)
        ).fetchone()[0]
    assert left == 0


def test_search_of_odd_text_finds_nothing_rather_than_failing(services) -> None:
    for text in ("   ", '"; DROP TABLE products; --', "%", "_", "\\", "'", "\U0010ffff", "ü"):
        assert isinstance(services.checkout.search(text), list)
    assert services.checkout.search("zzzzqqqq") == []


def test_pos_catalog_search_lists_coca_cola_first_for_kkkl_and_kekoukele(services) -> None:
    data_dir = services.terminal.data_dir
    services.close()
    for query in ("kkkl", "kekoukele"):
        out = io.StringIO()
        ctx = CliContext(data_dir=data_dir, as_json=True, out=out, err=io.StringIO())
        args = build_parser().parse_args(["catalog", "search", query])
        assert args.func(args, ctx) == 0
        assert json.loads(out.getvalue())[0]["name_zh"].startswith("可口可乐")


def test_a_large_reimport_replaces_every_products_keys_and_keeps_the_sku_index(services) -> None:
    """Imports of 10,000 products and more rebuild the key table's sku index
    after the rows; a renamed product is then found only by its new name."""
    first = [_product(f"BLK-{i:05d}", f"牛奶 {i}号", f"milk no.{i}") for i in range(12_000)]
    _add(services, *first)
    renamed = [_product(p.sku, f"面包 {i}号", f"bread no.{i}") for i, p in enumerate(first)]
    _add(services, *renamed)
    assert _skus(services, "mianbao 11999hao") == ["BLK-11999"]
    assert _skus(services, "niunai 11999hao") == []
    assert _skus(services, "milk no.11999") == []
    with services.terminal.db.read() as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN DELETE FROM product_keys WHERE sku = 'BLK-00001'"
        ).fetchall()
    assert "product_keys_sku" in " ".join(str(tuple(r)) for r in plan)
