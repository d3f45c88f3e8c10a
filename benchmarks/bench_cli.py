"""How fast the `coldcheck` command answers, whole process, against its floor.

    .venv/bin/python benchmarks/bench_cli.py             # 9 runs of each pair
    .venv/bin/python benchmarks/bench_cli.py --runs 5    # quicker, noisier
    .venv/bin/python benchmarks/bench_cli.py --src /tmp/old/src   # another checkout's code

Each row starts the real console script (`coldcheck`, next to this Python) as a
new process and waits for it to exit: start-up, imports, the database read and
the output are all in the figure. Its floor is a bare Python that only imports
what the command cannot do without: `import typer` for `--help`, `import typer,
sqlalchemy` for the commands that read a database. The command and its floor
run in turn (A B A B ...) so a busy machine slows both alike; the ratio is the
median of the pair-by-pair ratios, the times are medians too. Output goes to a
pipe that is read and thrown away, as when a script calls the command.

The database is a fresh demo (`coldcheck demo`) in a temporary folder.
Aim (issue 19): every ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(sys.executable).parent  # the venv's bin/, where the console script is


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--src", type=Path, default=None,
                    help="time the coldcheck package in this folder (another checkout's "
                         "src/, e.g. a commit before a change) instead of the installed one, "
                         "run as the console script runs it, with the same Python")
    args = ap.parse_args()
    python = sys.executable
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("COLDCHECK_DATABASE_URL", None)
    if args.src is None:
        cli = [str(HERE / "coldcheck")]
    else:
        # What the console script does, from the folder given.
        cli = [python, "-c", "import sys; from coldcheck.cli import main; "
               "sys.argv[0] = 'coldcheck'; sys.exit(main())"]
        env["PYTHONPATH"] = str(args.src.resolve())
    with tempfile.TemporaryDirectory(prefix="coldcheck-bench-cli-") as tmp:
        db = str(Path(tmp) / "demo.db")
        env["COLDCHECK_KEY_DIR"] = str(Path(tmp) / "keys")
        subprocess.run([*cli, "demo", "--db", db, "--json"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        with_db = [python, "-c", "import typer, sqlalchemy"]
        rows = [
            ("--help", [*cli, "--help"], [python, "-c", "import typer"]),
            ("status", [*cli, "status", "--db", db], with_db),
            ("status --json", [*cli, "status", "--db", db, "--json"], with_db),
            ("timeline --weapon W1", [*cli, "timeline", "--weapon", "W1", "--db", db],
             with_db),
            ("timeline --weapon W1 --json",
             [*cli, "timeline", "--weapon", "W1", "--db", db, "--json"], with_db),
        ]
        print(f"{'command':<34} {'median s':>9} {'floor s':>9} {'ratio':>7}   (runs: "
              f"{args.runs}, whole process, medians)")
        for name, cmd, floor in rows:
            timed(cmd, env)  # warm-up: file cache, .pyc
            timed(floor, env)
            a: list[float] = []
            b: list[float] = []
            for _ in range(args.runs):
                a.append(timed(cmd, env))
                b.append(timed(floor, env))
            ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
            print(f"{'coldcheck ' + name:<34} {statistics.median(a):>9.3f} "
                  f"{statistics.median(b):>9.3f} {ratio:>7.2f}")


if __name__ == "__main__":
    main()
