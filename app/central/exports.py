"""CSV and XLSX exports of the cross-region comparison, safe against spreadsheet formula injection.

A tenant name is chosen by the applicant at sign-up, so a name such as ``=HYPERLINK(...)`` must never become
a live formula: in CSV such strings get a leading single quote (OWASP "CSV injection"); in XLSX every string
is written as an explicit string cell (never a formula), with Excel's quote-prefix flag as well.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from flask_babel import gettext as _

from app.central.comparison import INDICATORS, RegionIndicators

#: First characters that make a spreadsheet program read a cell as a formula (or split it, for tab/CR).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix a string that a spreadsheet would read as a formula with a single quote; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def export_value(row: RegionIndicators, key: str) -> float | int | None:
    """The number as exported: shares as percentages with one decimal, rates and medians with two."""
    value = row.value(key)
    if value is None:
        return None
    kind = next(i.kind for i in INDICATORS if i.key == key)
    if kind == "share":
        return round(value * 100, 1)
    if kind == "index":
        return round(value, 1)
    if kind in ("rate", "score", "days") and isinstance(value, float):
        return round(value, 2)
    return value


def header() -> list[str]:
    shares = {i.key for i in INDICATORS if i.kind == "share"}
    return [_("Region"), _("Slug"), _("Province"), _("Population"),
            *[f"{i.label} (%)" if i.key in shares else str(i.label) for i in INDICATORS]]


def table(rows: Sequence[RegionIndicators]) -> list[list[object]]:
    return [[r.name, r.slug, r.province, r.population, *[export_value(r, i.key) for i in INDICATORS]] for r in rows]


def to_csv(rows: Sequence[RegionIndicators]) -> bytes:
    """UTF-8 with a byte order mark (so spreadsheet programs detect the encoding), comma-separated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header()])
    for line in table(rows):
        writer.writerow(["" if v is None else neutralise(v) for v in line])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[RegionIndicators], title: str) -> bytes:
    from openpyxl import Workbook  # loaded by the first export, not by every web worker at start
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Comparison"
    ws.append([title])
    _force_strings(ws[1])
    ws.append(header())
    _force_strings(ws[2])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for line in table(rows):
        ws.append(line)
        _force_strings(ws[ws.max_row])
    ws.freeze_panes = "C3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _force_strings(cells) -> None:
    # openpyxl turns a string starting with "=" into a formula; mark every string cell as a string.
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            cell.quotePrefix = True
