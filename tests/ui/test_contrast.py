"""Every text colour in the style sheets the app really loads (ui.style, set
by make_application and the kiosk window) against the background it is drawn
on meets WCAG 2.2 AA: 4.5:1, or 3:1 for large text (24 px and up, or 18.66 px
bold)."""

from __future__ import annotations

import re

import pytest

from ui.style import KIOSK_STYLE, STYLE

_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def rules(sheet: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for selectors, body in _RULE.findall(sheet):
        decls = {}
        for part in body.split(";"):
            if ":" in part:
                key, value = part.split(":", 1)
                decls[key.strip()] = value.strip()
        for sel in selectors.split(","):
            out.setdefault(sel.strip(), {}).update(decls)
    return out


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def colour(value: str) -> str:
    named = {"white": "#ffffff", "black": "#000000"}
    value = named.get(value, value)
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", value), value
    return value


def _widget(selector: str) -> str:
    return re.split(r"[\[:]", selector, maxsplit=1)[0]


def _lookup(sheet: dict[str, dict[str, str]], selector: str, key: str) -> str:
    """A property as Qt cascades it here: the rule itself, the rule for the
    same widget with the property attribute but without the state, the plain
    widget rule, then the QWidget rule everything inherits from."""
    base = selector.split(":", 1)[0] if "::" not in selector else selector
    widget = _widget(selector)
    for sel in (selector, base, widget, "QWidget"):
        if key in sheet.get(sel, {}):
            return sheet[sel][key]
    raise AssertionError(f"{selector}: no {key}")


def text_pairs(sheet_text: str, base: str = STYLE) -> list[tuple[str, str, str, float]]:
    """(selector, text colour, background, the ratio it needs) for every rule
    that draws text."""
    sheet = rules(base)
    own = rules(sheet_text)
    if sheet_text is not base:
        for sel, decls in own.items():
            sheet.setdefault(sel, {}).update(decls)
    pairs = []
    for sel in own:
        if "::indicator" in sel:
            continue
        decls = sheet[sel]
        fg = colour(_lookup(sheet, sel, "color"))
        bg = colour(_lookup(sheet, sel, "background-color"))
        size = int(re.sub(r"\D", "", _lookup(sheet, sel, "font-size")))
        bold = "bold" in decls.get("font-weight", "")
        large = size >= 24 or (bold and size >= 19)
        pairs.append((sel, fg, bg, 3.0 if large else 4.5))
        if "selection-color" in decls:
            sel_fg = colour(decls["selection-color"])
            sel_bg = colour(decls["selection-background-color"])
            pairs.append((sel + " (selected)", sel_fg, sel_bg, 4.5))
    return pairs


def test_the_counter_style_sheet_is_parsed_into_every_text_rule() -> None:
    pairs = text_pairs(STYLE)
    selectors = {p[0] for p in pairs}
    # The brand tenders and the muted labels, which were 2.1-2.9:1 before.
    for sel in (
        'QPushButton[role="wechat"]',
        'QPushButton[role="cash"]',
        'QLabel[role="muted"]',
        "QPushButton:disabled",
        "QTabBar::tab:selected",
    ):
        assert sel in selectors
    assert len(pairs) >= 25


@pytest.mark.parametrize("sheet", [STYLE, KIOSK_STYLE], ids=["counter", "kiosk"])
def test_every_text_and_background_pair_meets_wcag_aa(sheet: str) -> None:
    failing = [
        f"{sel}: {fg} on {bg} is {contrast(fg, bg):.2f}:1, needs {need}:1"
        for sel, fg, bg, need in text_pairs(sheet)
        if contrast(fg, bg) < need
    ]
    assert failing == []


def test_the_contrast_sum_matches_wcag_reference_values() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    # The figures issue 12 measured on main's style sheet.
    assert round(contrast("#ffffff", "#07c160"), 1) == 2.4
    assert round(contrast("#ffffff", "#f59f00"), 1) == 2.1
