"""The code's shape, as the redesign promised it: small modules and functions, nothing graded
E or F for complexity (radon), and no code nothing calls (vulture, with the frameworks' hooks
named in pyproject.toml)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 70  # "about 60": a long card or table in one place reads better whole


def sources() -> list[Path]:
    """Every product module (migrations are history, written once, and left as they are)."""
    found = []
    for folder in ("bot", "dialogs", "scheduler"):
        found += [p for p in sorted((ROOT / folder).rglob("*.py")) if "migrations" not in p.parts]
    return found


def test_there_is_code_to_check() -> None:
    assert len(sources()) > 100


def test_no_module_is_over_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_about_60_lines() -> None:
    long = {}
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1 if node.end_lineno else 0
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert long == {}


def test_nothing_is_graded_e_or_f_for_complexity() -> None:
    graded = {}
    for path in sources():
        for block in cc_visit(path.read_text(encoding="utf-8")):
            if cc_rank(block.complexity) in ("E", "F"):
                graded[f"{path.relative_to(ROOT)}:{block.lineno} {block.name}"] = block.complexity
    assert graded == {}


def test_no_function_method_or_class_is_unused() -> None:
    # Unused variables and attributes at vulture's lowest confidence are mostly table columns
    # and framework attributes; functions, methods and classes nobody calls are dead code.
    found = subprocess.run(
        [sys.executable, "-m", "vulture"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert found.returncode in (0, 3), found.stderr  # 3: vulture found something
    kinds = ("unused function", "unused method", "unused class", "unused import")
    dead = [line for line in found.stdout.splitlines() if any(k in line for k in kinds)]
    assert dead == []
    assert "bot/" in found.stdout  # it did look at the product (column names show up)


# ---- queries live in the repositories ----------------------------------------------------

# Each feature's SQL sits in its repository (`repo.py`, or `<subject>_repo.py` when one grows
# too long); its service modules keep the rules, its cards and commands call the services.
QUERY_FEATURES = ("incidents", "declarations", "bulletins", "events", "actions")
# models.py declares tables; HR's aggregates.py is HR's query module (HR is not checked here).
QUERY_MODULES = {"repo.py", "models.py", "aggregates.py"}
STATEMENTS = {"select", "update", "delete", "insert", "text"}
RUNS_SQL = {"execute", "scalar", "scalars", "stream", "stream_scalars"}
# Modules still holding SQL, "path": "why, and where it goes". Keep it short: a module
# listed here that no longer runs SQL fails the test, so the list cannot go stale.
SQL_TO_MOVE: dict[str, str] = {}


def called(node: ast.expr) -> str:
    """The name a receiver goes by: `session`, `self._session`, `turn_session()`."""
    if isinstance(node, ast.Call):
        return called(node.func)
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def sqlalchemy_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The local names of SQLAlchemy's statement builders (`from sqlalchemy import select`,
    `insert as pg_insert`) and of SQLAlchemy modules (`import sqlalchemy as sa`)."""
    builders: set[str] = set()
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            builders |= {a.asname or a.name for a in node.names if a.name in STATEMENTS}
        elif isinstance(node, ast.Import):
            modules |= {
                a.asname or a.name for a in node.names if a.name.split(".")[0] == "sqlalchemy"
            }
    return builders, modules


def runs_sql(call: ast.Attribute, modules: set[str]) -> bool:
    """x.execute/scalar/scalars/stream(...), session.get(...), or sa.select(...) and kin."""
    return (
        call.attr in RUNS_SQL
        or (call.attr == "get" and "session" in called(call.value).lower())
        or (call.attr in STATEMENTS and ast.unparse(call.value) in modules)
    )


def sql_in(source: str) -> list[str]:
    """Each place `source` imports or uses a statement builder (select, update, delete,
    insert, text, from SQLAlchemy, by any alias) or runs a statement."""
    tree = ast.parse(source)
    builders, modules = sqlalchemy_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            named = {a.asname or a.name for a in node.names if a.name in STATEMENTS}
            found += [f"{node.lineno}: import {name}" for name in sorted(named)]
        elif isinstance(node, ast.Name) and node.id in builders:
            found.append(f"{node.lineno}: {node.id}")  # called, or handed on (x = pg_insert)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and runs_sql(node.func, modules)
        ):
            found.append(f"{node.lineno}: {ast.unparse(node.func)}")
    return found


def query_module(path: Path) -> bool:
    return path.name in QUERY_MODULES or path.name.endswith("_repo.py")


def test_sql_sits_in_the_repositories() -> None:
    outside = {}
    for feature in QUERY_FEATURES:
        assert (ROOT / "bot" / feature / "repo.py").exists()
        for path in sorted((ROOT / "bot" / feature).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            if not query_module(path) and (found := sql_in(path.read_text(encoding="utf-8"))):
                outside[name] = found
    assert {name: found for name, found in outside.items() if name not in SQL_TO_MOVE} == {}
    assert [name for name in SQL_TO_MOVE if name not in outside] == []  # moved: unlist it


def test_the_sql_check_sees_statements_and_only_them() -> None:
    sample = (
        "import sqlalchemy as sa\n"
        "from sqlalchemy import select, text as raw\n"
        "from sqlalchemy.dialects.postgresql import insert as pg_insert\n"
        "async def f(session, self, values, rows):\n"
        "    await session.execute(select(A))\n"
        "    await self._session.get(A, 1)\n"
        "    raw('PRAGMA x')\n"
        "    insert = pg_insert if session else None\n"
        "    sa.delete(A)\n"
        "    rows.scalars()\n"
        "    values.update(a=1)\n"
        "    values.get('a')\n"
        "    turn_session().get(A, 2)\n"
        "    (await rows()).get('session')\n"
    )
    # Line 2 twice (select and text), 5 twice (execute and select); a dict's update and get
    # are not SQL, nor is a `session` that is not asked for anything.
    lines = sorted(int(place.split(":")[0]) for place in sql_in(sample))
    assert lines == [2, 2, 3, 5, 5, 6, 7, 8, 9, 10, 13]
    assert query_module(ROOT / "bot" / "incidents" / "case_repo.py")
    assert not query_module(ROOT / "bot" / "incidents" / "service.py")
