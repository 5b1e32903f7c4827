"""The benchmark still runs: it is not timed here, only kept from rotting."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_step_benchmark_runs_and_prints_its_ratios(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/bench.sqlite3",
           "PROPFLOW_VAR_DIR": str(tmp_path)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "bench/step.py", "--instances", "2", "--rounds", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ratio (c)/(a)" in done.stdout and "stored state per instance" in done.stdout
