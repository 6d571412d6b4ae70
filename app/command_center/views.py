"""Command center pages of a region: the wall screen and the JSON it polls (complaint unit and admins)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, render_template

from app.accounts.access import roles_required
from app.command_center import board

bp = Blueprint("command_center", __name__, url_prefix="/staff/command-center", template_folder="templates")

unit_required = roles_required(*board.BOARD_ROLES)


@bp.route("")
@unit_required
def wall():
    """The wall screen (1920×1080): counts, agencies, urgent lists and the map; it refreshes itself."""
    return render_template("command_center/wall.html", tile_url=current_app.config["MAP_TILE_URL"],
                           tile_attribution=current_app.config["MAP_TILE_ATTRIBUTION"],
                           refresh=max(5, current_app.config["COMMAND_CENTER_REFRESH_SECONDS"]))


@bp.route("/data.json")
@unit_required
def data():
    """The board's figures, polled by the wall screen (no complainant identity)."""
    resp = jsonify(board.board(g.tenant))
    resp.headers["Cache-Control"] = "no-store"
    return resp
