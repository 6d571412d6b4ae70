"""Catalog upkeep: `python -m app.i18n_catalogs fill-en` copies English msgids into the en catalog
(msgids are English), and `check` lists untranslated or fuzzy Indonesian entries."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent / "translations"


def _load(locale: str):
    with (ROOT / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def _save(catalog, locale: str) -> None:
    with (ROOT / locale / "LC_MESSAGES" / "messages.po").open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True, omit_header=False)


def fill_en() -> int:
    catalog = _load("en")
    changed = 0
    for msg in catalog:
        if not msg.id:
            continue
        if isinstance(msg.id, tuple):
            if not all(msg.string):
                msg.string = tuple(msg.id)
                changed += 1
        elif not msg.string:
            msg.string = msg.id
            changed += 1
        if msg.fuzzy:
            msg.flags.discard("fuzzy")
            changed += 1
    _save(catalog, "en")
    return changed


def missing(locale: str = "id") -> list[str]:
    catalog = _load(locale)
    out = []
    for msg in catalog:
        if not msg.id:
            continue
        empty = not all(msg.string) if isinstance(msg.string, tuple) else not msg.string
        if empty or msg.fuzzy:
            out.append(msg.id if isinstance(msg.id, str) else msg.id[0])
    return out


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    if cmd == "fill-en":
        print(f"en: {fill_en()} entries filled")
    else:
        todo = missing("id")
        for m in todo:
            print(f"untranslated: {m}")
        print(f"id: {len(todo)} untranslated or fuzzy")
        sys.exit(1 if todo else 0)
