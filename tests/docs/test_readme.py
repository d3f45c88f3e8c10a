"""The README's commands work: the top two exist, the walkthrough runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_exactly_the_run_and_test_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert first_block is not None
    assert README.index("```bash") < README.index("\n## ")
    commands = [ln.split("#")[0].strip() for ln in first_block.group(1).splitlines()]
    assert commands == ["bash scripts/run", "bash scripts/test"]
    assert (ROOT / "scripts/run").exists() and (ROOT / "scripts/test").exists()


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci/run").read_text()
    assert re.search(r"^bash scripts/test\b", ci, re.M)


def test_readme_walkthrough_runs_from_start_to_end(tmp_path: Path) -> None:
    block = README.split("<!-- walkthrough")[1].split("```bash\n", 1)[1].split("```", 1)[0]
    exe = Path(sys.executable).parent / "coldcheck"
    assert exe.exists() or shutil.which("coldcheck")
    script = "set -euo pipefail\n" + block
    env = dict(os.environ, PATH=f"{exe.parent}:{os.environ['PATH']}",
               COLDCHECK_ARGON2_PROFILE="fast-insecure-for-tests", COLUMNS="120")
    env.pop("COLDCHECK_DATABASE_URL", None)
    r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # The refusals the walkthrough promises really happened, with their codes.
    assert "AMMO_LIVE_FORBIDDEN" in r.stderr
    assert "CUSTODY_DIRECT_HANDOFF" in r.stderr
    assert "day.wrapped" in r.stdout
    assert "all matched" in r.stdout
    assert "backup written to backup.db" in r.stdout and (tmp_path / "backup.db").exists()
