"""The hashed lock files (`make lock`) match their inputs: every package pinned in requirements.txt /
requirements-dev.txt is in requirements.lock / requirements-dev.lock with the same version, and every
locked package carries hashes. A requirement added or bumped without `make lock` fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;\\#]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def pinned_inputs(path: Path) -> dict[str, str]:
    """name → version of each ``name==version`` line of a requirements file, following ``-r`` includes."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            pins.update(pinned_inputs(path.parent / line.split(None, 1)[1]))
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: {line!r} is not pinned with =="
        pins[_name(match.group(1))] = match.group(3)
    return pins


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) of a lock file."""
    entries: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = _name(match.group(1))
            entries[current] = (match.group(3), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
        elif line and not line.startswith(" "):
            current = None
    return entries


@pytest.mark.parametrize(("inputs", "lock"), [("requirements.txt", "requirements.lock"),
                                              ("requirements-dev.txt", "requirements-dev.lock")])
def test_every_pinned_requirement_is_locked_with_the_same_version(inputs, lock):
    wanted = pinned_inputs(REPO / inputs)
    have = locked(REPO / lock)
    stale = {name: (version, have.get(name, ("missing", 0))[0]) for name, version in wanted.items()
             if have.get(name, (None, 0))[0] != version}
    assert not stale, f"{lock} is stale (pinned → locked): {stale}; run `make lock`"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_is_pinned_with_hashes(lock):
    entries = locked(REPO / lock)
    assert len(entries) > 20
    assert not [name for name, (_version, hashes) in entries.items() if hashes == 0]


def test_the_dev_lock_holds_the_runtime_lock_with_the_same_versions():
    runtime = {name: version for name, (version, _) in locked(REPO / "requirements.lock").items()}
    dev = {name: version for name, (version, _) in locked(REPO / "requirements-dev.lock").items()}
    assert {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version} == {}


def test_the_parsers_see_a_stale_lock(tmp_path):
    (tmp_path / "requirements.txt").write_text("Flask==3.1.3\nphonenumbers==9.0.0  # new\n")
    lock = "flask==3.1.3 \\\n    --hash=sha256:00\n    # via -r requirements.txt\n"
    (tmp_path / "requirements.lock").write_text(lock)
    wanted, have = pinned_inputs(tmp_path / "requirements.txt"), locked(tmp_path / "requirements.lock")
    assert wanted == {"flask": "3.1.3", "phonenumbers": "9.0.0"}
    assert have == {"flask": ("3.1.3", 1)}
