"""The domain core is framework-free: standard library and itself, nothing else.

Every module under src/coldcheck/domain is parsed (not imported), so an import
hidden under ``if TYPE_CHECKING:``, inside a function or in a try block is seen
too. Relative imports must stay inside coldcheck.domain.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "coldcheck" / "domain"
PACKAGE = "coldcheck.domain"
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
DYNAMIC_IMPORTS = {"__import__", "import_module"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(DOMAIN).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([target] if target else [])])


def foreign_imports(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """Imports in ``source`` that are neither standard library nor coldcheck.domain,
    as 'line N: name'."""
    bad: list[str] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level and node.module is None:  # from .. import a, b
                base = _resolve_relative(module, is_package, node.level, None)
                names = [f"{base}.{alias.name}" for alias in node.names]
            elif node.level:
                names = [_resolve_relative(module, is_package, node.level, node.module)]
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            if called in DYNAMIC_IMPORTS:
                bad.append(f"line {node.lineno}: dynamic import via {called}()")
            continue
        for name in names:
            top = name.split(".")[0]
            inside = name == PACKAGE or name.startswith(PACKAGE + ".")
            if not inside and top not in STDLIB:
                bad.append(f"line {node.lineno}: {name}")
    return bad


def domain_modules() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def test_the_domain_package_has_modules_to_check() -> None:
    names = {p.name for p in domain_modules()}
    assert {"__init__.py", "rules.py", "events.py", "custody.py", "state.py"} <= names


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: p.name)
def test_domain_module_imports_only_the_standard_library(path: Path) -> None:
    bad = foreign_imports(path.read_text(encoding="utf-8"), _module_name(path),
                          is_package=path.name == "__init__.py")
    assert not bad, (f"{path.relative_to(DOMAIN.parents[1])} imports outside the standard "
                     "library and coldcheck.domain:\n  " + "\n  ".join(bad))


def test_checker_accepts_stdlib_and_relative_imports_inside_the_domain() -> None:
    source = """
from __future__ import annotations
import json, datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING
from . import rules
from .errors import Violation
from coldcheck.domain.events import EVENT_TYPES
if TYPE_CHECKING:
    from .state import ProductionState
"""
    assert foreign_imports(source, "coldcheck.domain.custody") == []


def test_checker_rejects_frameworks_other_layers_and_escaping_relative_imports() -> None:
    source = """
import sqlalchemy
from fastapi import FastAPI
from pydantic import BaseModel
from coldcheck.persistence import store
from ..config import Settings
from .. import services
import importlib
importlib.import_module("jinja2")
def late():
    import argon2
"""
    bad = foreign_imports(source, "coldcheck.domain.custody")
    flagged = " ".join(bad)
    for name in ("sqlalchemy", "fastapi", "pydantic", "coldcheck.persistence",
                 "coldcheck.config", "coldcheck.services", "import_module", "argon2"):
        assert name in flagged, f"{name} should be flagged: {bad}"
    assert "importlib" not in [b.split(": ")[1] for b in bad]  # stdlib itself is fine


def test_relative_imports_resolve_from_the_package_init() -> None:
    assert foreign_imports("from . import rules", "coldcheck.domain", is_package=True) == []
    assert foreign_imports("from .. import cli", "coldcheck.domain", is_package=True) == [
        "line 1: coldcheck.cli"]
