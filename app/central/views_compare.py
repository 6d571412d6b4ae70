"""Central console: cross-region comparison, drill-down and exports (central administrators only).

The numbers come from :mod:`app.central.comparison`; this module only reads the request and renders.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _

from app.accounts.access import central_admin_required
from app.central import comparison, exports
from app.inputs import OutOfRange, date_range_message, page_number, parse_date

bp = Blueprint("central_compare", __name__)

@bp.app_template_filter("day")
def day_filter(value: date) -> str:
    """A calendar date (no time, no zone), e.g. "28 Februari 2026"; the app's |date filter takes instants."""
    return format_date(value, format="long")


#: Regions per page of the comparison.
PER_PAGE = 50

#: Longest period a request may ask for (the trend chart has one bar per month).
MAX_DAYS = 5 * 366


def _period() -> tuple[date, date, list[str]]:
    """The period from ?start=&end= (ISO dates), else the last 12 months; errors fall back to the default."""
    default_start, default_end = comparison.default_period()
    errors = []
    try:
        start = parse_date(request.args.get("start") or default_start.isoformat())
        end = parse_date(request.args.get("end") or default_end.isoformat())
    except OutOfRange:
        errors.append(date_range_message())
        start, end = default_start, default_end
    except ValueError:
        errors.append(_("Enter dates as YYYY-MM-DD."))
        start, end = default_start, default_end
    if end < start:
        errors.append(_("The end of the period is before its start."))
        start, end = default_start, default_end
    elif (end - start).days > MAX_DAYS:
        errors.append(_("Choose a period of at most five years."))
        start, end = default_start, default_end
    return start, end, errors


#: The default ranking: the composite performance score, best first (volume would reward big cities).
DEFAULT_SORT = "score"


def _sort() -> tuple[str, bool]:
    key = request.args.get("sort") or DEFAULT_SORT
    if key not in comparison.SORT_KEYS:
        key = DEFAULT_SORT
    direction = request.args.get("dir")
    if direction not in ("asc", "desc"):
        # Default: best first for indicators with a direction, biggest first for volumes, A–Z for names.
        better = comparison.BY_KEY[key].higher_is_better if key in comparison.BY_KEY else None
        direction = "asc" if key == "name" or better is False else "desc"
    return key, direction == "desc"


@bp.route("/central/compare")
@central_admin_required
def compare():
    """Ranking of all active regions for a period, with bands and monthly trends."""
    start, end, errors = _period()
    key, descending = _sort()
    rows, trends = comparison.cached_comparison(start, end)
    provinces = sorted({r.province for r in rows if r.province})
    province = request.args.get("province") or ""
    if province:
        rows = [r for r in rows if r.province == province]
    rows = comparison.sort_rows(rows, key, descending)
    # 552 regions on one page were 1.2 MB of HTML and ~400 ms of rendering: a page of PER_PAGE, ranked
    # across all (or the province's) regions; the exports keep every region.
    pages = max(1, -(-len(rows) // PER_PAGE))
    page = min(request.args.get("page", 1, type=page_number), pages)
    offset = (page - 1) * PER_PAGE
    months = comparison.month_range(start, end)
    return render_template(
        "central/compare.html", rows=rows[offset:offset + PER_PAGE], total=len(rows), offset=offset, page=page,
        pages=pages, provinces=provinces, province=province, trends=trends, months=months, start=start, end=end,
        errors=errors, sort=key, descending=descending, indicators=comparison.INDICATORS,
        thresholds=comparison.thresholds_from_config(),
    )


@bp.route("/central/indicators")
@central_admin_required
def method():
    """How we compute: every indicator's formula, the score's weights and the peer rules (from the config)."""
    return render_template("central/compare_method.html", indicators=comparison.INDICATORS,
                           scoring=comparison.score_config(), score_min_reports=comparison.score_min_reports(),
                           peer_rules=comparison.PeerRules.from_config(),
                           thresholds=comparison.thresholds_from_config(), formulas=comparison.FORMULAS)


@bp.route("/central/compare/<slug>")
@central_admin_required
def drill_down(slug: str):
    """One region's aggregates for the period (numbers only, never its complaints or people)."""
    start, end, errors = _period()
    agg = comparison.tenant_aggregates(slug, start, end)
    if agg is None:
        abort(404)
    return render_template("central/compare_region.html", agg=agg, row=agg.indicators, start=start, end=end,
                           errors=errors, indicators=comparison.INDICATORS)


def _export_rows():
    start, end, _errors = _period()
    key, descending = _sort()
    rows = comparison.compare_regions(start, end)
    if request.args.get("province"):
        rows = [r for r in rows if r.province == request.args["province"]]
    return start, end, comparison.sort_rows(rows, key, descending)


@bp.route("/central/compare.csv")
@central_admin_required
def export_csv():
    start, end, rows = _export_rows()
    return _download(exports.to_csv(rows), "text/csv; charset=utf-8", f"comparison-{start}-{end}.csv")


@bp.route("/central/compare.xlsx")
@central_admin_required
def export_xlsx():
    start, end, rows = _export_rows()
    title = _("Cross-region comparison, %(start)s to %(end)s", start=start.isoformat(), end=end.isoformat())
    return _download(exports.to_xlsx(rows, title),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"comparison-{start}-{end}.xlsx")


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
