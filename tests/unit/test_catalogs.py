"""Every user-facing string in the code is in the Indonesian catalog, translated.

Extracts from the sources the way `make extract-messages` does, so a string added without
re-running `make update-messages` (and translating it) fails here rather than showing English
on an Indonesian page.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from app.i18n_catalogs import _load

ROOT = Path(__file__).resolve().parents[2]


def _extracted_msgids() -> set[str]:
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_source_string_is_translated_into_indonesian():
    catalog = _load("id")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    extracted = _extracted_msgids()
    assert len(extracted) > 500  # the extraction itself worked
    missing = sorted(extracted - translated)
    assert not missing, f"run `make update-messages` and translate: {missing[:20]}"
