"""A region's home page and its brand stylesheet (blueprint "public", so the endpoints stay ``tenant.public.*``).

This blueprint also carries the complaints package's template folder (``app/complaints/templates``):
Flask searches every registered blueprint's folder, so ``complaints/public/*`` and ``complaints/staff/*``
resolve from here for the other complaint views too."""

import re

from flask import Blueprint, Response, g, render_template

bp = Blueprint("public", __name__, template_folder="templates")


@bp.route("/")
def home():
    """The region's home page: what the service is and how to use it."""
    return render_template("complaints/public/home.html", tenant=g.tenant)


_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}")


@bp.route("/brand.css")
def brand_css():
    """The region's colour as a stylesheet: the Content-Security-Policy allows no inline style."""
    colour = (g.tenant.branding or {}).get("primary_color") or ""
    css = f":root {{ --brand: {colour}; }}\n" if _COLOUR.fullmatch(colour) else ""
    resp = Response(css, mimetype="text/css")
    resp.cache_control.public = True
    resp.cache_control.max_age = 3600
    return resp
