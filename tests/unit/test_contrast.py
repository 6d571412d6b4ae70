"""Status badges (``.badge`` deadline and count badges, ``.status`` labels) are read at a small size:
each one's text must reach WCAG 2.2 AA contrast (4.5:1) against its own background. The colours are
read from app/static/app.css itself (custom properties resolved), so a change of colour there is
checked here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "app" / "static" / "app.css"
AA_NORMAL_TEXT = 4.5


def _strip_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def custom_properties(css: str) -> dict[str, str]:
    root = re.search(r":root\s*\{([^}]*)\}", css)
    assert root, "app.css has no :root block"
    return dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", root.group(1)))


def declarations(body: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, v in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body)}


def badge_rules(css: str, kind: str) -> dict[str, dict[str, str]]:
    """Selector → declarations for every rule that styles ``.<kind>`` (alone or with one class)."""
    rules = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        for selector in (s.strip() for s in selectors.split(",")):
            if re.fullmatch(rf"\.{kind}(\.[\w-]+)?", selector):
                rules.setdefault(selector, {}).update(declarations(body))
    return rules


def resolve(value: str, props: dict[str, str], inherited: str | None = None) -> str:
    value = value.strip()
    for _ in range(5):
        m = re.fullmatch(r"var\((--[\w-]+)\)", value)
        if not m:
            break
        value = props[m.group(1)].strip()
    return value


def rgb(color: str) -> tuple[float, float, float]:
    color = color.strip().lower()
    if color in ("white", "#fff"):
        color = "#ffffff"
    m = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", color)
    assert m, f"cannot read colour {color!r}"
    h = m.group(1)
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))


def luminance(color: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: str, bg: str) -> float:
    lighter, darker = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def badge_colours() -> dict[str, tuple[str, str]]:
    css = _strip_comments(CSS.read_text())
    props = custom_properties(css)
    body_color = resolve(declarations(re.search(r"\bbody\s*\{([^}]*)\}", css).group(1))["color"], props)
    out = {}
    for kind in ("badge", "status"):
        rules = badge_rules(css, kind)
        base = rules.get(f".{kind}", {})
        for selector, decl in rules.items():
            merged = {**base, **decl}
            fg = resolve(merged.get("color", body_color), props)
            bg = resolve(merged.get("background", merged.get("background-color", "#fff")), props)
            out[selector] = (fg, bg)
    return out


def test_the_formula_matches_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    # The colours of issue 16's "Mendekati batas waktu" badge: 3.45:1.
    assert contrast("#b7791f", "#fefcbf") == pytest.approx(3.45, abs=0.01)


def test_every_status_badge_is_found():
    found = set(badge_colours())
    assert {".badge", ".badge.overdue", ".badge.soon", ".badge.ok", ".status", ".status.closed"} <= found, found


@pytest.mark.parametrize("selector", sorted(badge_colours()))
def test_badge_text_reaches_aa_contrast(selector):
    fg, bg = badge_colours()[selector]
    ratio = contrast(fg, bg)
    assert ratio >= AA_NORMAL_TEXT, f"{selector}: {fg} on {bg} is {ratio:.2f}:1 (WCAG AA needs {AA_NORMAL_TEXT}:1)"
