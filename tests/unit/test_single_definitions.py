"""One definition each: role groups live on ``Role`` (app/accounts/models.py), stage names in
app/deadlines/policy.py. Anywhere else, a tuple, list or set that spells out two or more roles or stages is a
second definition that will drift (a new role or stage missing from one copy)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"

ROLE_NAMES = {"tenant_admin", "officer", "liaison", "citizen"}
ROLE_ATTRS = {"TENANT_ADMIN", "OFFICER", "LIAISON", "CITIZEN"}
STAGE_NAMES = {"verification", "coordination", "followup", "auto_close"}

ROLE_HOME = "accounts/models.py"
STAGE_HOME = "deadlines/policy.py"
#: Copies outside this branch's reach, still to be replaced by an import (the test fails once one is gone,
#: so the entry is removed with it).
PENDING: set[tuple[str, str]] = set()


def _is_role(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in ROLE_NAMES
    return (isinstance(node, ast.Attribute) and node.attr in ROLE_ATTRS
            and isinstance(node.value, ast.Name) and node.value.id == "Role")


def _is_stage(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in STAGE_NAMES


def _groups(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            yield node


def copies() -> dict[tuple[str, str], list[int]]:
    """(module under app/, "role" | "stage") → lines with a literal group of two or more names."""
    found: dict[tuple[str, str], list[int]] = {}
    for path in sorted(APP.rglob("*.py")):
        rel = path.relative_to(APP).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _groups(tree):
            if rel != ROLE_HOME and sum(map(_is_role, node.elts)) >= 2:
                found.setdefault((rel, "role"), []).append(node.lineno)
            if rel != STAGE_HOME and sum(map(_is_stage, node.elts)) >= 2:
                found.setdefault((rel, "stage"), []).append(node.lineno)
    return found


def test_role_groups_and_stage_names_are_defined_once():
    extra = {key: lines for key, lines in copies().items() if key not in PENDING}
    assert not extra, ("role groups belong on app.accounts.models.Role and stage names in app.deadlines.policy; "
                       f"import them instead of these copies: {extra}")


def test_the_pending_copies_are_still_there():
    """An entry of PENDING whose copy is gone must go too, so the exception does not outlive the copy."""
    assert PENDING <= set(copies())


def test_the_homes_define_the_groups():
    from app.accounts.models import Role
    from app.deadlines import policy

    assert set(Role.STAFF) == {Role.TENANT_ADMIN, Role.OFFICER, Role.LIAISON}
    assert set(Role.UNIT) == {Role.OFFICER, Role.TENANT_ADMIN}
    assert set(Role.HANDLERS) == {Role.OFFICER, Role.LIAISON}
    assert set(policy.STAGES) == STAGE_NAMES
    assert set(policy.FIXED_STAGES) == set(policy.STAGES) - {policy.FOLLOWUP}


def test_the_check_finds_a_reintroduced_copy(tmp_path, monkeypatch):
    (tmp_path / "somewhere.py").write_text('UNIT = ("officer", "tenant_admin")\nS = {"verification", "followup"}\n'
                                          'ONE = ("officer",)\n')
    monkeypatch.setattr(sys.modules[__name__], "APP", tmp_path)
    assert copies() == {("somewhere.py", "role"): [1], ("somewhere.py", "stage"): [2]}
