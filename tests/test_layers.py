"""The architecture holds (README, Layout): one writer per table, no import circles, thin pages.

import-linter checks the layers themselves (`lint-imports` in `./ce test`, contracts in
pyproject.toml); these tests check what it cannot see.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cetracker"

# Each table and the one module that writes it. A module that needs another's table to
# change calls that module.
OWNERS = {
    "ce_records": "cetracker.records",
    "closed_years": "cetracker.years",
    "year_snapshots": "cetracker.years",
    "member_licenses": "cetracker.licenses",
    "audit_log": "cetracker.audit",
    "users": "cetracker.accounts.users",
    "members": "cetracker.members",
    "providers": "cetracker.providers",
    "courses": "cetracker.courses",
    "dues": "cetracker.dues",
    "reminder_schedules": "cetracker.reminders",
    "reminder_sends": "cetracker.reminders",
    "nightly_backups": "cetracker.backups",
}
# Schema migrations reshape tables while upgrading a database (migration 8 fills the
# license keys); they are no second owner of any table's rows.
NOT_WRITERS = {"cetracker.store.migrations"}


def _modules() -> dict[str, Path]:
    return {
        ".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): f
        for f in PACKAGE.rglob("*.py")
    }


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every project module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n for n in names if n in known}
    return found


def test_no_module_imports_itself_through_others() -> None:
    modules = _modules()
    edges = {m: _imports(f, set(modules)) - {m} for m, f in modules.items()}

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for target in edges[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    circles = sorted(m for m in modules if m in reach(m))
    assert circles == []


def test_each_table_has_one_writer() -> None:
    writes = re.compile(r"(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)\b", re.I)
    writers: dict[str, set[str]] = {}
    for module, path in _modules().items():
        if module in NOT_WRITERS:
            continue
        for table in writes.findall(path.read_text(encoding="utf-8")):
            writers.setdefault(table, set()).add(module)
    for table, owner in OWNERS.items():
        assert writers.get(table, set()) <= {owner}, f"{table} is written by {writers[table]}"
    assert writers["ce_records"] == {"cetracker.records"}


def test_pages_never_reach_the_database() -> None:
    for page in sorted((ROOT / "pages").glob("*.py")):
        source = page.read_text(encoding="utf-8")
        imported = _imports(page, set(_modules()) | {"duckdb"})
        assert "duckdb" not in imported, page.name
        assert not any(m.startswith("cetracker.store") for m in imported), page.name
        assert not re.search(r"\.execute\(|\b(SELECT|INSERT|UPDATE|DELETE)\s", source), page.name


def test_every_module_has_its_place_in_the_layer_contracts() -> None:
    """A new module must be placed in a layer, or import-linter would not look at it."""
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = settings["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    named = {m.strip() for layer in layers for m in re.split(r"[:|]", layer)}
    no_streamlit = next(c for c in contracts if "Streamlit" in c["name"])["source_modules"]
    top = {
        "cetracker." + (p.stem if p.is_file() else p.name)
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__")
        or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert top - named == set()
    assert top - set(no_streamlit) == {"cetracker.ui"}
