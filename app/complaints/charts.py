"""Small server-rendered SVG charts for the staff dashboard: no JavaScript, no chart library, no CDN.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>`` (the text
alternative), with every value written next to its bar, so nothing depends on colour or hovering. The
drawing is sized for a 390 px phone (a 360-unit wide viewBox drawn at its natural size and shrunk, never
stretched, by ``max-width: 100%``). Colours are dark on white (contrast above 4.5:1).
Pure functions of their arguments: no database, no request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 360
#: Bars and text: the brand blue and the page's ink colour (both above 7:1 on white).
BAR_COLOUR = "#0b5394"
TEXT_COLOUR = "#1f2933"
#: Axis and guide lines; decorative, so they need no text contrast.
LINE_COLOUR = "#9aa5b1"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


@dataclass(frozen=True)
class Datum:
    """One bar: its label, its value (drawn to scale) and the number written beside it."""

    label: str
    value: float
    text: str


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    cid = escape(chart_id)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" role="img" '
            f'aria-labelledby="{cid}-title {cid}-desc" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" font-family="{FONT}" fill="{TEXT_COLOUR}">'
            f'<title id="{cid}-title">{escape(title)}</title><desc id="{cid}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 (every text above and in body is escaped)


def _scale(values: Sequence[float], max_value: float | None) -> float:
    top = max_value if max_value is not None else max([0.0, *values])
    return top if top > 0 else 1.0


def bar_chart(chart_id: str, title: str, desc: str, data: Sequence[Datum], max_value: float | None = None) -> Markup:
    """Horizontal bars, one per datum: the label on its own line (long agency names fit a phone), the bar
    below it and the number at the bar's end. ``max_value`` fixes the scale (100 for percentages)."""
    row, bar_h, label_h = 42, 16, 17
    room = 64  # for the number after the longest bar
    top = _scale([d.value for d in data], max_value)
    height = max(row * len(data) + 4, row)
    body = []
    for i, d in enumerate(data):
        y = i * row
        length = max(0.0, min(d.value, top)) / top * (WIDTH - room)
        body.append(f'<text x="0" y="{y + 13}" font-size="13">{escape(d.label)}</text>')
        body.append(f'<rect x="0" y="{y + label_h + 2}" width="{length:.1f}" height="{bar_h}" fill="{BAR_COLOUR}" '
                    f'rx="2"><title>{escape(d.label)}: {escape(d.text)}</title></rect>')
        body.append(f'<text x="{length + 6:.1f}" y="{y + label_h + 15}" font-size="13" '
                    f'font-weight="600">{escape(d.text)}</text>')
    return _svg(chart_id, title, desc, height, body)


def column_chart(chart_id: str, title: str, desc: str, data: Sequence[Datum], label_every: int = 2) -> Markup:
    """Vertical columns in order (a trend over time), each with its number on top; every ``label_every``-th
    column gets its label under the axis (the data table beside the chart has all of them)."""
    height, bottom, top_pad = 200, 34, 18
    plot_h = height - bottom - top_pad
    n = max(len(data), 1)
    slot = WIDTH / n
    col_w = slot * 0.68
    top = _scale([d.value for d in data], None)
    base_y = top_pad + plot_h
    body = [f'<line x1="0" y1="{base_y}" x2="{WIDTH}" y2="{base_y}" stroke="{LINE_COLOUR}" stroke-width="1"/>']
    for i, d in enumerate(data):
        x = i * slot + (slot - col_w) / 2
        h = max(0.0, d.value) / top * plot_h
        cx = i * slot + slot / 2
        body.append(f'<rect x="{x:.1f}" y="{base_y - h:.1f}" width="{col_w:.1f}" height="{h:.1f}" '
                    f'fill="{BAR_COLOUR}" rx="2"><title>{escape(d.label)}: {escape(d.text)}</title></rect>')
        body.append(f'<text x="{cx:.1f}" y="{base_y - h - 4:.1f}" font-size="11" text-anchor="middle" '
                    f'font-weight="600">{escape(d.text)}</text>')
        if (len(data) - 1 - i) % max(label_every, 1) == 0:  # always label the latest column
            body.append(f'<text x="{cx:.1f}" y="{base_y + 16}" font-size="11" '
                        f'text-anchor="middle">{escape(d.label)}</text>')
    return _svg(chart_id, title, desc, height, body)
