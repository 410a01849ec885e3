"""The catalogue's pre-parsed cache is only ever a faster way to read the same
TOML: an edited domain file is read again, a damaged cache is ignored."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import pos.messages as messages
from pos.messages import build_cache, domain_texts, domains, msg


@pytest.fixture
def catalogue_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "catalogue"
    shutil.copytree(messages.CATALOGUE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(messages, "CATALOGUE_DIR", root)
    monkeypatch.setattr(messages, "CACHE_DIR", root / "__pycache__")
    domains.cache_clear()
    domain_texts.cache_clear()
    yield root
    domains.cache_clear()
    domain_texts.cache_clear()


def _reread() -> None:
    domain_texts.cache_clear()


def test_an_edited_domain_file_is_read_again_not_taken_from_its_cache(catalogue_copy: Path):
    assert build_cache() == len(domains())
    assert (catalogue_copy / "__pycache__" / "common.json").exists()
    toml = catalogue_copy / "common.toml"
    before = msg("common.error_prefix", text="x").render("en")
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            before.replace("x", "{text}", 1), "Changed: {text}", 1
        ),
        encoding="utf-8",
    )
    _reread()
    assert msg("common.error_prefix", text="x").render("en") == "Changed: x"


def test_a_damaged_cache_is_ignored(catalogue_copy: Path):
    build_cache()
    (catalogue_copy / "__pycache__" / "common.json").write_text("{not json")
    (catalogue_copy / "__pycache__" / "till.json").write_text('{"sha256": "0", "texts": {}}')
    _reread()
    assert domain_texts("common") and domain_texts("till")


def test_the_cache_holds_what_the_toml_says(catalogue_copy: Path):
    parsed = {d: dict(domain_texts(d)) for d in domains()}
    build_cache()
    _reread()
    assert {d: dict(domain_texts(d)) for d in domains()} == parsed
