"""A region's public pages."""

from flask import Blueprint, g, render_template

bp = Blueprint("public", __name__)


@bp.route("/")
def home():
    """The region's home page: what the service is and how to use it."""
    return render_template("public/home.html", tenant=g.tenant)
