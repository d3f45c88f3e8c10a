"""Build and run the independent Go verifier (tests/interop/verify.go).

Reusable by any test that wants Go's ``sumdb/note`` and ``sumdb/tlog`` to judge
a checkpoint and proofs produced by coldcheck::

    from go_verifier import go_verifier_or_skip, inclusion_item, run_go_verifier

    binary = go_verifier_or_skip()          # builds once per test session
    result = run_go_verifier(binary, go_document(verifier_key, note, inclusion=[...]))
    assert result.ok, result.failures

When ``go`` or the golang.org/x/mod sources are missing the test is skipped,
except under CI (environment variable ``CI=true``), where it fails: the
interoperability check is the ledger's acceptance test and must not silently
disappear from CI.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VERIFY_GO = REPO_ROOT / "tests" / "interop" / "verify.go"
GOPATH = Path(os.environ.get("COLDCHECK_GOPATH", "/usr/share/gocode"))
X_MOD = GOPATH / "src" / "golang.org" / "x" / "mod" / "sumdb"

_built: Path | None = None
_build_error: str | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def toolchain_problem() -> str | None:
    """Return why the Go verifier cannot be built here, or None if it can."""
    if shutil.which("go") is None:
        return "the `go` command is not installed (apt-get install golang-go)"
    for pkg in ("note", "tlog"):
        if not (X_MOD / pkg).is_dir():
            return (
                f"Go package golang.org/x/mod/sumdb/{pkg} not found under {GOPATH} "
                "(apt-get install golang-golang-x-mod-dev, or set COLDCHECK_GOPATH)"
            )
    if not VERIFY_GO.is_file():
        return f"{VERIFY_GO} is missing"
    return None


def build_go_verifier(dest_dir: Path) -> Path:
    """Compile tests/interop/verify.go into ``dest_dir``; raise RuntimeError on failure."""
    problem = toolchain_problem()
    if problem is not None:
        raise RuntimeError(problem)
    binary = dest_dir / "verify"
    env = dict(os.environ)
    env.update(
        GO111MODULE="off",
        GOPATH=str(GOPATH),
        GOCACHE=str(dest_dir / "gocache"),
        GOFLAGS="",
        CGO_ENABLED="0",
    )
    proc = subprocess.run(
        ["go", "build", "-o", str(binary), str(VERIFY_GO)],
        cwd=VERIFY_GO.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"go build of {VERIFY_GO} failed:\n{proc.stdout}{proc.stderr}")
    return binary


def go_verifier_or_skip() -> Path:
    """Return the built verifier (built once per process); skip, or fail under CI=true."""
    global _built, _build_error
    if _built is None and _build_error is None:
        problem = toolchain_problem()
        if problem is not None:
            _build_error = problem
        else:
            dest = Path(tempfile.mkdtemp(prefix="coldcheck-go-verify-"))
            atexit.register(shutil.rmtree, dest, ignore_errors=True)
            try:
                _built = build_go_verifier(dest)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                _build_error = str(exc)
    if _built is not None:
        return _built
    message = f"Go interop verifier unavailable: {_build_error}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: the Go interop check is required in CI)")
    pytest.skip(message)


@dataclass(frozen=True)
class GoResult:
    """Outcome of one run of the Go verifier."""

    returncode: int
    output: dict[str, Any]
    stderr: str
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and bool(self.output.get("ok")) and not self.failures


def run_go_verifier(binary: Path, document: Mapping[str, Any]) -> GoResult:
    """Feed ``document`` (see :func:`go_document`) to the verifier and parse its answer."""
    proc = subprocess.run(
        [str(binary)],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        output = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"Go verifier printed no JSON (exit {proc.returncode}): {exc}\n"
            f"stdout: {proc.stdout!r}\nstderr: {proc.stderr!r}"
        ) from None
    return GoResult(proc.returncode, output, proc.stderr, list(output.get("failures") or []))


def inclusion_item(
    index: int, tree_size: int, leaf_hash: bytes, root_hash: bytes, proof: Sequence[bytes]
) -> dict[str, Any]:
    """One entry of the document's ``inclusion`` list."""
    return {
        "index": index,
        "tree_size": tree_size,
        "leaf_hash": _b64(leaf_hash),
        "root_hash": _b64(root_hash),
        "proof": [_b64(h) for h in proof],
    }


def consistency_item(
    old_size: int, old_root: bytes, tree_size: int, root_hash: bytes, proof: Sequence[bytes]
) -> dict[str, Any]:
    """One entry of the document's ``consistency`` list."""
    return {
        "old_size": old_size,
        "old_root": _b64(old_root),
        "tree_size": tree_size,
        "root_hash": _b64(root_hash),
        "proof": [_b64(h) for h in proof],
    }


def go_document(
    verifier_key: str,
    signed_note: str,
    *,
    entries: Iterable[bytes] | None = None,
    inclusion: Iterable[Mapping[str, Any]] = (),
    consistency: Iterable[Mapping[str, Any]] = (),
    earlier_notes: Iterable[str] = (),
) -> dict[str, Any]:
    """Assemble the JSON document verify.go reads on stdin."""
    doc: dict[str, Any] = {
        "verifier_key": verifier_key,
        "signed_note": signed_note,
        "inclusion": [dict(i) for i in inclusion],
        "consistency": [dict(c) for c in consistency],
        "earlier_notes": list(earlier_notes),
    }
    if entries is not None:
        doc["entries_b64"] = [_b64(e) for e in entries]
    return doc
