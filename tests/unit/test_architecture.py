"""Architecture rules, checked over the source of app/ with ``ast`` (nothing is imported or run):

1. View modules (``views*.py`` and any module that registers routes) neither query nor commit: the database
   work is a service or query function's, the transaction the unit of work's (app/unit_of_work.py).
2. No module imports another package's private names (a leading underscore): what a feature shares is public.
3. Imports are at module top, except where a function-local import breaks a real import cycle or keeps an
   optional or heavy dependency out of every process that does not use it (:data:`LOCAL_IMPORTS`).

Each checker is a plain function over source text, so the tests below also prove that it reports a
reintroduced violation.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"

# ---------------------------------------------------------------- 1. no queries or commits in views

#: ``db.<name>(...)`` helpers of Flask-SQLAlchemy that run a query.
DB_QUERY_HELPERS = {"get_or_404", "first_or_404", "one_or_404", "paginate"}
#: SQLAlchemy statement constructors: building a statement is a query function's job.
STATEMENT_BUILDERS = {"select", "insert", "update", "delete", "exists", "union", "union_all", "text"}
#: Decorator or call attributes that register a route on a blueprint.
ROUTE_REGISTRARS = {"route", "get", "post", "put", "patch", "delete", "add_url_rule"}
#: module under app/ → why this view module may touch the session. Empty today; keep it very small.
VIEW_QUERY_ALLOWED: dict[str, str] = {}


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def registers_routes(tree: ast.AST) -> bool:
    """True when the module puts a route on a blueprint: ``@bp.route(...)``/``@bp.get(...)`` or
    ``bp.add_url_rule(...)`` on a module-level name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                func = deco.func if isinstance(deco, ast.Call) else deco
                if (isinstance(func, ast.Attribute) and func.attr in ROUTE_REGISTRARS
                        and isinstance(func.value, ast.Name) and isinstance(deco, ast.Call)):
                    return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_url_rule"):
            return True
    return False


def is_view_module(rel: str, tree: ast.AST) -> bool:
    return Path(rel).name.startswith("views") or registers_routes(tree)


def view_queries(source: str) -> list[tuple[int, str]]:
    """(line, what) for each query or transaction call in ``source``, read as a view module.

    Counted: any use of ``db.session`` (commit, rollback, flush, execute, scalar(s), get, add, delete, ...);
    the query helpers ``db.get_or_404``/``first_or_404``/``one_or_404``/``paginate``; the legacy ``X.query``
    attribute; calling a SQLAlchemy statement constructor (``select``, ``insert``, ``update``, ``delete``,
    ``exists``, ``union``, ``text``) whether imported by name or reached through the module (``sa.select``,
    ``sqlalchemy.select``). Not counted: exceptions imported from ``sqlalchemy.exc``, column expressions,
    or filters added to a statement a query function returned."""
    tree = ast.parse(source)
    sa_modules: set[str] = {"sqlalchemy"}
    builders: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "sqlalchemy" or alias.name.startswith("sqlalchemy."):
                    sa_modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            for alias in node.names:
                if alias.name in STATEMENT_BUILDERS:
                    builders.add(alias.asname or alias.name)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = _dotted(node)
            if name == "db.session":
                found.append((node.lineno, "db.session"))
            elif name and name.startswith("db.") and node.attr in DB_QUERY_HELPERS:
                found.append((node.lineno, name))
            elif node.attr == "query" and isinstance(node.ctx, ast.Load):
                found.append((node.lineno, f"{name or '?'} (legacy Model.query)"))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in builders:
                found.append((node.lineno, f"{func.id}(...)"))
            elif isinstance(func, ast.Attribute) and func.attr in STATEMENT_BUILDERS:
                owner = _dotted(func.value)
                if owner in sa_modules:
                    found.append((node.lineno, f"{owner}.{func.attr}(...)"))
    return sorted(set(found))


def _modules():
    for path in sorted(APP.rglob("*.py")):
        rel = path.relative_to(APP).as_posix()
        yield rel, path.read_text(encoding="utf-8")


def test_views_neither_query_nor_commit():
    bad = {}
    for rel, source in _modules():
        if rel in VIEW_QUERY_ALLOWED or not is_view_module(rel, ast.parse(source)):
            continue
        if hits := view_queries(source):
            bad[rel] = hits
    assert not bad, ("views call one service or query function inside the unit of work; move these into the "
                     f"feature's service.py/queries.py: {bad}")


def test_view_module_detection_covers_every_route_module():
    views = {rel for rel, source in _modules() if is_view_module(rel, ast.parse(source))}
    assert {"api/rest.py", "api/open311.py", "api/openapi.py", "complaints/views_staff.py"} <= views
    assert "complaints/service.py" not in views


# ---------------------------------------------------------------- 2. no private names across packages


def package_of(module: str) -> str:
    """The feature package of a dotted module under app: ``app.complaints.service`` → ``app.complaints``;
    a top-level module is its own package (``app.contact``)."""
    parts = module.split(".")
    return ".".join(parts[:2])


def module_name(rel: str) -> str:
    parts = list(Path(rel).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["app", *parts])


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_app_module(dotted: str, app_dir: Path) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (app_dir / rel).with_suffix(".py").is_file() or (app_dir / rel / "__init__.py").is_file()


def private_imports(source: str, module: str, is_package: bool = False,
                    app_dir: Path = APP) -> list[tuple[int, str]]:
    """(line, name) for each private name of another app package that ``source`` (the module ``module``)
    imports, or reads as an attribute of another package's module it imported."""
    tree = ast.parse(source)
    own = package_of(module)
    found = []
    foreign_modules: dict[str, str] = {}  # local name → dotted module of another package
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source_module = _resolve(module, is_package, node)
            if source_module.split(".")[0] != "app":
                continue
            for alias in node.names:
                target = f"{source_module}.{alias.name}"
                if _is_app_module(target, app_dir):
                    if package_of(target) != own:
                        foreign_modules[alias.asname or alias.name] = target
                    continue
                if _is_private(alias.name) and package_of(source_module) != own:
                    found.append((node.lineno, f"{source_module}.{alias.name}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "app" and package_of(alias.name) != own:
                    if alias.asname:
                        foreign_modules[alias.asname] = alias.name
                    if any(_is_private(part) for part in alias.name.split(".")):
                        found.append((node.lineno, alias.name))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            owner = _dotted(node.value)
            target = foreign_modules.get(owner) if owner else None
            if target is None and owner and owner.startswith("app.") and package_of(owner) != own:
                target = owner
            if target is not None:
                found.append((node.lineno, f"{target}.{node.attr}"))
    return sorted(set(found))


def test_no_private_names_across_packages():
    bad = {}
    for rel, source in _modules():
        if hits := private_imports(source, module_name(rel), rel.endswith("__init__.py")):
            bad[rel] = hits
    assert not bad, f"make the name public (no leading underscore) or move it to the package that uses it: {bad}"


# ---------------------------------------------------------------- 3. local imports only where they must be

_FACTORY = ("the blueprints' modules (and wiring, which they share code with) reach app.jobs.runner, which "
            "imports create_app from this package: at the package's top they would form the cycle "
            "app -> views -> ... -> app.jobs.runner -> app. The model registry, CLI and web security are imported "
            "here too, so that importing one app.* module does not load every feature")
_SENTRY = ("no cycle: slow to import (~0.7 s with its integrations); loaded only when SENTRY_DSN is set, not by every "
           "CLI call, worker fork or test")
_BOTO = "no cycle: slow to import (~0.2 s); loaded only by the S3 storage backend, not with local storage"
_MEMORY = ("no cycle: ~15 MB each in every web worker that never writes an XLSX or receives a PDF (README, "
           "Benchmarks: RSS); loaded by the first export or PDF")

#: (module under app/, enclosing function, imported module; ``app.*`` = any module of the app) → why the
#: import cannot be at module top. A new entry names the cycle it breaks.
LOCAL_IMPORTS: dict[tuple[str, str, str], str] = {
    ("__init__.py", "create_app", "app.*"): _FACTORY,
    ("__init__.py", "_register_blueprints", "app.*"): _FACTORY,
    ("__init__.py", "_register_errors.render.handler", "app.*"): _FACTORY,
    ("__init__.py", "_machine_outage_answer", "app.*"): _FACTORY,
    ("extensions.py", "TenantSession.get", "app.tenancy.scope"):
        "app.tenancy.scope imports db from app.extensions",
    ("api/errors.py", "unrouted_error", "app.api.open311"): "app.api.open311 imports app.api.errors",
    ("observability.py", "init_sentry", "sentry_sdk"): _SENTRY,
    ("observability.py", "init_sentry", "sentry_sdk.integrations.flask"): _SENTRY,
    ("observability.py", "init_sentry", "sentry_sdk.integrations.redis"): _SENTRY,
    ("observability.py", "init_sentry", "sentry_sdk.integrations.rq"): _SENTRY,
    ("observability.py", "init_sentry", "sentry_sdk.integrations.sqlalchemy"): _SENTRY,
    ("storage.py", "S3Storage.__init__", "boto3"): _BOTO,
    ("storage.py", "S3Storage.__init__", "botocore.config"): _BOTO,
    ("storage.py", "S3Storage.get", "botocore.exceptions"): _BOTO,
    ("storage.py", "S3Storage.head_sha256", "botocore.exceptions"): _BOTO,
    ("central/exports.py", "to_xlsx", "openpyxl"): _MEMORY,
    ("central/exports.py", "to_xlsx", "openpyxl.styles"): _MEMORY,
    ("complaints/exports.py", "write_xlsx", "openpyxl"): _MEMORY,
    ("complaints/exports.py", "write_xlsx", "openpyxl.cell"): _MEMORY,
    ("complaints/exports.py", "write_xlsx", "openpyxl.styles"): _MEMORY,
    ("complaints/uploads.py", "strip_pdf_metadata", "pikepdf"): _MEMORY,
}


def allowed_local_import(rel: str, scope: str, imported: str) -> tuple[str, str, str] | None:
    """The allow-list entry that covers this import, if any."""
    if (rel, scope, imported) in LOCAL_IMPORTS:
        return rel, scope, imported
    if (rel, scope, "app.*") in LOCAL_IMPORTS and (imported == "app" or imported.startswith("app.")):
        return rel, scope, "app.*"
    return None


def local_imports(source: str) -> list[tuple[int, str, str]]:
    """(line, enclosing scope, imported module) for each import inside a function or method (a class body
    runs at import time, so an import there is not local)."""
    found = []
    scopes: list[tuple[str, bool]] = []  # (name, is a function)

    class Visitor(ast.NodeVisitor):
        def _scope(self, node, is_function):
            scopes.append((node.name, is_function))
            self.generic_visit(node)
            scopes.pop()

        def visit_FunctionDef(self, node):
            self._scope(node, True)

        def visit_AsyncFunctionDef(self, node):
            self._scope(node, True)

        def visit_ClassDef(self, node):
            self._scope(node, False)

        def _record(self, node, names):
            if any(is_function for _, is_function in scopes):
                for name in names:
                    found.append((node.lineno, ".".join(n for n, _ in scopes), name))

        def visit_Import(self, node):
            self._record(node, [alias.name for alias in node.names])

        def visit_ImportFrom(self, node):
            self._record(node, ["." * node.level + (node.module or "")])

    Visitor().visit(ast.parse(source))
    return found


def test_local_imports_only_where_allowed():
    seen, bad = set(), []
    for rel, source in _modules():
        for line, function, imported in local_imports(source):
            key = allowed_local_import(rel, function, imported)
            seen.add(key)
            if key is None:
                bad.append(f"{rel}:{line} {function}() imports {imported}")
    assert not bad, "move these imports to the module top (or allow-list one that breaks a real cycle):\n" + \
        "\n".join(bad)
    stale = set(LOCAL_IMPORTS) - seen
    assert not stale, f"allow-listed local imports that no longer exist (remove them): {sorted(stale)}"


# ---------------------------------------------------------------- the checkers report what they should


def test_view_checker_reports_queries_and_commits():
    source = (
        "import sqlalchemy as sa\n"
        "from sqlalchemy import select\n"
        "from sqlalchemy.exc import IntegrityError\n"
        "from app.extensions import db\n"
        "@bp.post('/x')\n"
        "def x():\n"
        "    db.session.add(thing)\n"
        "    rows = db.session.execute(select(Thing)).scalars()\n"
        "    other = sa.select(Thing)\n"
        "    y = Thing.query.get(1)\n"
        "    z = db.get_or_404(Thing, 1)\n"
        "    db.session.commit()\n"
    )
    hits = view_queries(source)
    assert [line for line, _ in hits] == [7, 8, 8, 9, 10, 11, 12]
    assert registers_routes(ast.parse(source))
    assert view_queries("from app.x import queries\ndef v():\n    return queries.rows(stmt.where(a == 1))\n") == []


def test_private_import_checker_reports_other_packages_private_names():
    source = (
        "from app.complaints.views_staff import _user, public_name\n"
        "from app.privacy.service import _same_package_is_fine\n"
        "from app.complaints import views_staff\n"
        "import app.complaints.inbox as inbox\n"
        "def f():\n"
        "    return views_staff._forms_for(1), inbox._private, app.complaints.access._x\n"
    )
    hits = private_imports(source, "app.privacy.views")
    assert [name for _, name in hits] == ["app.complaints.views_staff._user", "app.complaints.access._x",
                                          "app.complaints.inbox._private", "app.complaints.views_staff._forms_for"]
    assert private_imports("from .service import _x\n", "app.privacy.views") == []
    assert private_imports("from ..complaints.service import _x\n", "app.privacy.views") == \
        [(1, "app.complaints.service._x")]


def test_local_import_checker_reports_imports_in_functions():
    source = (
        "import os\n"
        "def f():\n"
        "    from app.extensions import db\n"
        "    def inner():\n"
        "        import json\n"
        "class C:\n"
        "    from typing import Any\n"
        "    def m(self):\n"
        "        from . import sibling\n"
    )
    assert local_imports(source) == [(3, "f", "app.extensions"), (5, "f.inner", "json"), (9, "C.m", ".")]
