"""One message catalogue: a code and its parameters -> text in zh_CN or en.

Every text a person reads (cashier, shopper, manager, operator) is a
`Message`: a code from the catalogue and the values it names. Front ends
render it in the reader's language; the core never builds sentences.

The catalogue is data: one TOML file per domain in `catalogue/`, each code a
table with an `en` and a `zh_CN` text (str.format fields named after the
parameters). A code's first dotted part names its file, so each domain owns
its codes. Texts for the shopper live under codes that start with `kiosk.`
or carry `.shopper` so they can be written in the second person.
"""

from __future__ import annotations

import hashlib
import json
import os
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

LANGS: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LANG = "zh_CN"


@runtime_checkable
class Amount(Protocol):
    """Money as the catalogue sees it (the catalogue sits below pos.money, so
    money's own errors can carry messages): formatted per language."""

    minor: int
    currency: str

    def format(self, locale: str = "en") -> str: ...


@dataclass(frozen=True, slots=True)
class Name:
    """A parameter that has its own text in each language: a product's or a
    store's name as the catalogue data gives it."""

    zh_CN: str
    en: str

    def format(self, lang: str) -> str:
        return self.zh_CN if lang_of(lang) == "zh_CN" else self.en


class UnknownMessage(KeyError):
    """A code that is not in the catalogue: a programming error, caught by tests."""


@dataclass(frozen=True, slots=True)
class Message:
    """A code from the catalogue and its parameters; rendered only at the edge."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        return render(self, lang)

    def to_dict(self) -> dict[str, Any]:
        """For JSON output and logs: the code, its values and both texts."""
        return {
            "code": self.code,
            "params": {k: _plain(v) for k, v in self.params.items()},
            "zh_CN": self.render("zh_CN"),
            "en": self.render("en"),
        }


def msg(code: str, /, **params: Any) -> Message:
    """A message by code; refuses a code the catalogue does not have."""
    if _entry(code) is None:
        raise UnknownMessage(code)
    return Message(code, params)


def lang_of(value: str | None) -> str:
    """The catalogue language for a locale name ('zh', 'zh_CN.UTF-8', 'en_US')."""
    if value and value.lower().startswith("en"):
        return "en"
    if value and value.lower().startswith("zh"):
        return "zh_CN"
    return DEFAULT_LANG


def env_lang(environ: Mapping[str, str] | None = None) -> str:
    """The reader's language from POS_LANG, else LC_ALL / LANG, else zh_CN."""
    env = os.environ if environ is None else environ
    for name in ("POS_LANG", "LC_ALL", "LANG"):
        value = env.get(name)
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return lang_of(value)
    return DEFAULT_LANG


def render(message: Message, lang: str) -> str:
    lang = lang_of(lang)
    entry = _entry(message.code)
    if entry is None:
        raise UnknownMessage(message.code)
    values = {k: _value_for(v, lang) for k, v in message.params.items()}
    return _FORMATTER.vformat(entry[lang], (), _Defaulting(values))


def fields_of(text: str) -> set[str]:
    """The parameter names a catalogue text uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def has(code: str) -> bool:
    """Whether the catalogue has `code` (reads only that code's domain file)."""
    return _entry(code) is not None


def texts_of(code: str) -> dict[str, str] | None:
    """A code's texts by language, or None (reads only that code's domain file)."""
    return _entry(code)


def _entry(code: str) -> dict[str, str] | None:
    return domain_texts(code.split(".", 1)[0]).get(code)


def catalogue() -> dict[str, dict[str, str]]:
    """Every code -> {lang: text}, from every domain file."""
    out: dict[str, dict[str, str]] = {}
    for domain in domains():
        out.update(domain_texts(domain))
    return out


CATALOGUE_DIR = Path(__file__).with_name("catalogue")
# Each domain's texts, already checked, beside its TOML: reading JSON costs a
# tenth of parsing TOML, and a command uses about ten domains. Keyed on the
# TOML's SHA-256, so an edited file is parsed again (never a stale text).
CACHE_DIR = CATALOGUE_DIR / "__pycache__"


@cache
def domains() -> tuple[str, ...]:
    names = (p.name for p in CATALOGUE_DIR.iterdir() if p.name.endswith(".toml"))
    return tuple(sorted(n.removesuffix(".toml") for n in names))


@cache
def domain_texts(domain: str) -> dict[str, dict[str, str]]:
    """One domain file's codes, read once when a code of it is first used
    (reading all of them costs a command ~0.1 s)."""
    if domain not in domains():
        return {}
    raw = (CATALOGUE_DIR / f"{domain}.toml").read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    cached = _read_cache(domain, digest)
    if cached is not None:
        return cached
    out = _parse_domain(domain, raw.decode("utf-8"))
    if not sys.dont_write_bytecode:  # the same rule as Python's own bytecode
        _write_cache(domain, digest, out)
    return out


def build_cache() -> int:
    """Write every domain's cache (at install, like compiling the bytecode);
    returns how many domains were written."""
    for domain in domains():
        raw = (CATALOGUE_DIR / f"{domain}.toml").read_bytes()
        texts = _parse_domain(domain, raw.decode("utf-8"))
        _write_cache(domain, hashlib.sha256(raw).hexdigest(), texts)
    return len(domains())


def _cache_path(domain: str) -> Path:
    return CACHE_DIR / f"{domain}.json"


def _read_cache(domain: str, digest: str) -> dict[str, dict[str, str]] | None:
    try:
        doc = json.loads(_cache_path(domain).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("sha256") != digest:
        return None
    texts = doc.get("texts")
    return texts if isinstance(texts, dict) else None


def _write_cache(domain: str, digest: str, texts: dict[str, dict[str, str]]) -> None:
    path = _cache_path(domain)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        CACHE_DIR.mkdir(exist_ok=True)
        tmp.write_text(json.dumps({"sha256": digest, "texts": texts}, ensure_ascii=False))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only install: parse each time


def _parse_domain(domain: str, text: str) -> dict[str, dict[str, str]]:
    import tomllib  # only when a domain's cache is missing or stale

    out: dict[str, dict[str, str]] = {}
    name = f"{domain}.toml"
    data = tomllib.loads(text)
    for code, texts in _flatten(data):
        if code.split(".", 1)[0] != domain:
            raise ValueError(f"{name}: code {code!r} belongs in {code.split('.')[0]}.toml")
        missing = [lang for lang in LANGS if not isinstance(texts.get(lang), str)]
        if missing:
            raise ValueError(f"{name}: {code} has no text for {', '.join(missing)}")
        if code in out:
            raise ValueError(f"{name}: {code} is defined twice")
        if any(isinstance(v, dict) for v in texts.values()):
            # A code with codes under it: those would be silently lost.
            raise ValueError(f"{name}: {code} has texts and also codes under it")
        out[code] = {lang: texts[lang] for lang in LANGS}
    return out


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """TOML tables nest on dots; a table holding language keys is one code."""
    found: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if not isinstance(value, dict):
            continue
        code = f"{prefix}{key}"
        if any(lang in value for lang in LANGS):
            found.append((code, value))
        else:
            found.extend(_flatten(value, code + "."))
    return found


def _value_for(value: Any, lang: str) -> Any:
    if isinstance(value, (Amount, Name)):
        return value.format(lang)
    if isinstance(value, Message) or callable(getattr(value, "render", None)):
        return value.render(lang)  # a message, or a flow's zh/en pair
    if isinstance(value, (list, tuple)):
        # A list of messages reads as one sentence list in the reader's language.
        return ("；" if lang == "zh_CN" else "; ").join(str(_value_for(v, lang)) for v in value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Amount):
        return {"minor": value.minor, "currency": value.currency}
    if isinstance(value, Name):
        return {"zh_CN": value.zh_CN, "en": value.en}
    if isinstance(value, Message):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


class _Defaulting(dict[str, Any]):
    """A missing parameter renders as its name in braces rather than failing
    in front of a person; the catalogue test catches it before release."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _SafeFormatter(string.Formatter):
    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        if isinstance(key, int):
            return "{" + str(key) + "}"
        return kwargs[key]


_FORMATTER = _SafeFormatter()


def both(message: Message) -> str:
    """Chinese, then English, in one text: for documents read in both languages
    (exported reports, the report headers an accountant and head office share)."""
    return f"{message.render('zh_CN')} {message.render('en')}"
