"""A region's area on the map: a bounding box and, optionally, a boundary polygon, from
``[settings.area]`` in ``tenants/<slug>/tenant.toml``.

The one intake refuses a map pin outside the area (app.complaints.service); the map picker keeps the
pin inside the box; a region without an area accepts any coordinates in Indonesia.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Indonesia with a margin: every channel refuses a pin outside it, area or not.
INDONESIA = (-11.5, 94.5, 6.5, 141.5)  # south, west, north, east


@dataclass(frozen=True)
class Area:
    south: float
    west: float
    north: float
    east: float
    #: ((lat, lon), ...) of a closed ring; empty = the box alone.
    boundary: tuple[tuple[float, float], ...] = ()

    def contains(self, lat: float, lon: float) -> bool:
        if not (self.south <= lat <= self.north and self.west <= lon <= self.east):
            return False
        return not self.boundary or _in_polygon(lat, lon, self.boundary)

    @property
    def bbox(self) -> list[float]:
        return [self.south, self.west, self.north, self.east]

    @property
    def center(self) -> tuple[float, float]:
        return (round((self.south + self.north) / 2, 6), round((self.west + self.east) / 2, 6))


def _in_polygon(lat: float, lon: float, ring: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting (even-odd rule) in plain degrees: fine at a region's scale."""
    inside = False
    j = len(ring) - 1
    for i, (yi, xi) in enumerate(ring):
        yj, xj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def area_from_settings(settings: dict | None) -> Area | None:
    """The area of a region's merged settings, or None when none is configured."""
    area = (settings or {}).get("area") or {}
    box = area.get("bbox")
    if not box:
        return None
    south, west, north, east = (float(v) for v in box)
    ring = tuple((float(p[0]), float(p[1])) for p in area.get("boundary") or ())
    return Area(south, west, north, east, ring)


def area_of(tenant) -> Area | None:
    return area_from_settings(getattr(tenant, "settings", None))


def check_settings(area: dict) -> str | None:
    """What is wrong with a ``[settings.area]`` table (for app.tenancy.files), or None."""
    box = area.get("bbox")
    if box is None:
        return "bbox: is required: [south, west, north, east] in decimal degrees"
    if not (isinstance(box, list) and len(box) == 4 and all(_number(v) for v in box)):
        return "bbox: must be [south, west, north, east] in decimal degrees"
    south, west, north, east = box
    s, w, n, e = INDONESIA
    if not (s <= south < north <= n and w <= west < east <= e):
        return "bbox: must have south < north and west < east, inside Indonesia"
    ring = area.get("boundary")
    if ring is not None:
        if not isinstance(ring, list) or len(ring) < 3 or not all(
                isinstance(p, list) and len(p) == 2 and all(_number(v) for v in p) for p in ring):
            return "boundary: must be a list of at least 3 [lat, lon] points"
        if not all(south <= p[0] <= north and west <= p[1] <= east for p in ring):
            return "boundary: every point must lie inside bbox"
    return None


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
