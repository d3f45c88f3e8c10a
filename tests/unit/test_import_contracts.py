"""Import contracts between the layers, read from the source with ``ast``:

* the web app and the API are two adapters over services/: neither imports the
  other (coldcheck.asgi composes them);
* services/ (and what it stands on) imports no adapter: not the API, the web
  app or the CLI;
* the CLI reaches storage through services/, never persistence/ (the
  exceptions below are listed one by one, each with its reason);
* domain/ imports only the standard library and domain/ itself.

Every ``import`` and ``from … import`` counts, wherever it stands (a lazy import
inside a function is still a dependency), relative ones resolved against the
module's package.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "coldcheck"

# (importing module, imported module) pairs allowed against "cli does not import
# persistence". cli/ is another change's area at the time of writing; these are
# the CLI's remaining direct opens of the store and the SQLite file path, to
# move behind services/ (a services function that opens the store) there.
CLI_PERSISTENCE_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("coldcheck.cli.commands", "coldcheck.persistence.store"):
        "opens Store(database_url) for init/demo/restore and finds the SQLite file",
    ("coldcheck.cli.ledger", "coldcheck.persistence.store"):
        "ledger verify --backup opens a private temporary copy with Store(lock=False)",
    ("coldcheck.cli.backup", "coldcheck.persistence.store"):
        "sqlite_file(): the file a backup copies, to name it in messages",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports (``from a import b`` counts as ``a`` and, when
    ``a.b`` is a module of coldcheck, as ``a.b`` too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            for a in node.names:
                sub = f"{target}.{a.name}"
                if (SRC / Path(*sub.split("."))).with_suffix(".py").exists() or \
                        (SRC / Path(*sub.split(".")) / "__init__.py").exists():
                    found.add(sub)
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(g: dict[str, set[str]], source: str, forbidden: tuple[str, ...]
               ) -> list[tuple[str, str]]:
    return sorted((m, imp) for m, imps in g.items() if within(m, source)
                  for imp in imps if any(within(imp, f) for f in forbidden))


@pytest.fixture(scope="module")
def g() -> dict[str, set[str]]:
    out = graph()
    assert "coldcheck.web.access" in out and "coldcheck.api.auth" in out  # it read the tree
    return out


def test_the_web_app_does_not_import_the_api(g: dict[str, set[str]]) -> None:
    assert violations(g, "coldcheck.web", ("coldcheck.api",)) == []


def test_the_api_does_not_import_the_web_app(g: dict[str, set[str]]) -> None:
    assert violations(g, "coldcheck.api", ("coldcheck.web",)) == []


@pytest.mark.parametrize("layer", ["coldcheck.services", "coldcheck.persistence",
                                   "coldcheck.ledger", "coldcheck.documents",
                                   "coldcheck.domain"])
def test_the_layers_below_the_adapters_import_none_of_them(
        g: dict[str, set[str]], layer: str) -> None:
    assert violations(g, layer, ("coldcheck.api", "coldcheck.web", "coldcheck.cli",
                                 "coldcheck.asgi", "coldcheck.server")) == []


def test_the_cli_does_not_import_persistence_but_for_the_listed_exceptions(
        g: dict[str, set[str]]) -> None:
    found = violations(g, "coldcheck.cli", ("coldcheck.persistence",))
    unlisted = [v for v in found if v not in CLI_PERSISTENCE_EXCEPTIONS]
    assert unlisted == [], "the CLI goes through services/, not persistence/"
    stale = sorted(set(CLI_PERSISTENCE_EXCEPTIONS) - set(found))
    assert stale == [], "these exceptions no longer happen: remove them from the list"


def test_the_domain_imports_only_the_standard_library_and_itself(
        g: dict[str, set[str]]) -> None:
    bad = sorted((m, imp) for m, imps in g.items() if within(m, "coldcheck.domain")
                 for imp in imps if not within(imp, "coldcheck.domain")
                 and imp.partition(".")[0] not in sys.stdlib_module_names
                 and imp != "__future__")
    assert bad == []


def test_a_violation_is_found(tmp_path: Path) -> None:
    """The checks see an import wherever it stands, relative or absolute."""
    web = tmp_path / "coldcheck" / "web"
    web.mkdir(parents=True)
    (web / "__init__.py").write_text("")
    (web / "bad.py").write_text("def f():\n    from ..api.auth import Call\n")
    global SRC
    saved = SRC
    try:
        SRC = tmp_path
        g = {module_name(p): imports(p) for p in sorted(tmp_path.rglob("*.py"))}
    finally:
        SRC = saved
    assert violations(g, "coldcheck.web", ("coldcheck.api",)) == [
        ("coldcheck.web.bad", "coldcheck.api.auth")]
