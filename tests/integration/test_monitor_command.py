"""`python -m app.monitor` as a command: its exit code and its ALERT line."""

from __future__ import annotations

import os
import subprocess
import sys

from app.monitor.__main__ import main
from tests.unit.monitor.test_monitor import REPO


def test_exit_code_and_alert_line_from_the_command_line(work_dir):
    main(["simulate", "--n", "300", "--drift", "shift", "--seed", "2"])
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "app.monitor"]
    run = subprocess.run(command, cwd=work_dir, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr
    assert any(line.startswith("ALERT drift: PSI above 0.25 on top features: ") for line in run.stderr.splitlines())
