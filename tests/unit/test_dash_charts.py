"""The dashboard's SVG charts (app/complaints/charts.py): named, described, every value written, text escaped,
bars to scale, sized for a phone."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from app.complaints.charts import BAR_COLOUR, TEXT_COLOUR, WIDTH, Datum, bar_chart, column_chart

NS = {"s": "http://www.w3.org/2000/svg"}


def _parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 (our own markup: well-formed XML, or this raises)


def _bars(root) -> list[ET.Element]:
    return [r for r in root.iter("{http://www.w3.org/2000/svg}rect")]


def _texts(root) -> list[str]:
    return [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_bar_chart_is_an_image_named_by_its_title_and_described_by_its_text_alternative():
    svg = bar_chart("chart-x", "Reports by category", "Jalan 3; Drainase 1.",
                    [Datum("Jalan", 3, "3"), Datum("Drainase", 1, "1")])
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-x-title chart-x-desc"
    assert root.find("s:title", NS).get("id") == "chart-x-title"
    assert root.find("s:title", NS).text == "Reports by category"
    assert root.find("s:desc", NS).text == "Jalan 3; Drainase 1."


def test_bar_chart_writes_every_label_and_value_and_draws_bars_to_scale():
    root = _parse(bar_chart("c", "t", "d", [Datum("Jalan", 4, "4"), Datum("Drainase", 2, "2"), Datum("Nol", 0, "0")]))
    assert _texts(root) == ["Jalan", "4", "Drainase", "2", "Nol", "0"]
    widths = [float(r.get("width")) for r in _bars(root)]
    assert widths[0] > 0 and abs(widths[1] - widths[0] / 2) < 0.2 and widths[2] == 0
    assert max(widths) <= WIDTH
    # each bar names its value on hover too
    assert [r.find("s:title", NS).text for r in _bars(root)] == ["Jalan: 4", "Drainase: 2", "Nol: 0"]


def test_a_fixed_scale_keeps_percentages_comparable():
    half = _parse(bar_chart("c", "t", "d", [Datum("Verifikasi", 50, "50%")], max_value=100))
    full = _parse(bar_chart("c", "t", "d", [Datum("Verifikasi", 100, "100%")], max_value=100))
    assert abs(float(_bars(half)[0].get("width")) * 2 - float(_bars(full)[0].get("width"))) < 0.2


def test_text_is_escaped_so_a_category_name_cannot_inject_markup():
    svg = str(bar_chart("c", "<b>t</b>", "d & e", [Datum('<script>alert(1)</script>"', 1, "1")]))
    assert "<script>" not in svg and "<b>" not in svg
    root = _parse(svg)
    assert _texts(root)[0] == '<script>alert(1)</script>"'
    assert root.find("s:desc", NS).text == "d & e"


def test_column_chart_keeps_the_order_labels_the_latest_column_and_writes_each_value():
    data = [Datum(f"{d}/10", n, str(n)) for d, n in zip(range(1, 13), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20],
                                                        strict=True)]
    root = _parse(column_chart("w", "Per week", "desc", data))
    bars = _bars(root)
    assert len(bars) == 12
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == 0 and heights[-1] == max(heights) and abs(heights[-2] * 2 - heights[-1]) < 0.2
    xs = [float(b.get("x")) for b in bars]
    assert xs == sorted(xs)
    texts = _texts(root)
    assert "12/10" in texts and "20" in texts
    assert all(str(n) in texts for n in range(11))  # every value is written


def test_charts_fit_a_phone_and_use_dark_colours():
    root = _parse(bar_chart("c", "t", "d", [Datum("Dinas Pekerjaan Umum dan Penataan Ruang", 9, "9")]))
    assert root.get("width") == str(WIDTH) and WIDTH <= 360  # drawn at natural size, shrunk by CSS on a phone
    assert root.get("viewBox").startswith(f"0 0 {WIDTH} ")
    assert root.get("fill") == TEXT_COLOUR

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    for colour in (BAR_COLOUR, TEXT_COLOUR):  # against the white card
        assert (1.05) / (luminance(colour) + 0.05) >= 4.5, colour
    assert re.search(r'font-size="1[1-3]"', str(bar_chart("c", "t", "d", [Datum("a", 1, "1")])))


def test_empty_column_chart_still_draws_a_baseline():
    root = _parse(column_chart("w", "t", "d", [Datum("1/10", 0, "0")]))
    assert root.find("s:line", NS) is not None
