"""The checkout stands alone: no code, test or script reads outside the repository.

A user, a packager or a contributor has only the clone. The known answers the
tests need live in ``tests/data`` (made by ``tests/interop/vectors``), and the
format the ledger follows is ``docs/ledger.md``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = (".py", ".go", ".sh", ".toml", ".cfg", ".ini")
SCRIPTS = ("scripts", ".ci", "tests/interop")
# Ways of naming the design folder beside the repository that the project was
# specified from (``..`` then ``shared``), as a string or as pathlib parts.
OUTSIDE = ("../" + "shared", "'" + "shared'", '"' + 'shared" /')


def _code_files() -> list[Path]:
    files = [p for p in ROOT.rglob("*") if p.is_file() and p.suffix in CODE
             and ".venv" not in p.parts and ".git" not in p.parts]
    for folder in SCRIPTS:
        files += [p for p in (ROOT / folder).iterdir() if p.is_file() and not p.suffix]
    return files


def test_no_code_reaches_outside_the_repository() -> None:
    offenders = []
    for path in _code_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(form in line for form in OUTSIDE):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "reads outside the repository:\n" + "\n".join(offenders)


def test_the_known_answers_live_in_the_repository() -> None:
    from ledger_vectors import VECTORS_FILE, vectors

    assert ROOT in VECTORS_FILE.parents
    assert len(vectors()["leaves"]) == 130
