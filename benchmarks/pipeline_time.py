"""`dvc repro` end to end on fresh scratch copies, stage by stage: wall time and peak RSS of each stage, for
this project's code and for the code before issue 28 (a git worktree of ``--before``), side by side.

    python benchmarks/pipeline_time.py                      # before and after at 80,000 clients, then after at the
                                                            # full Kaggle volume (307,511 + 48,744)
    python benchmarks/pipeline_time.py --runs after:80000:12700 --work /tmp/pipeline-bench
    python benchmarks/pipeline_time.py --report             # print the saved results again (every run kept
                                                            # in --work, the latest of each side and volume)

Each run is a detached `git worktree` of its commit (``after`` is HEAD: commit before measuring) with its own
empty DVC cache, MLflow store and Optuna database, so `dvc repro` runs every stage as on a fresh clone; only
``data.synthetic.n_clients`` and ``n_test_clients`` are changed in its params.yaml. The runs go one after the
other, never side by side, on the same machine. `dvc repro`'s output is read as it comes: a stage is timed from
its ``Running stage`` line to the next one (or the end), and the RSS of the whole process tree is sampled
every 0.2 s and attributed to the stage running. The generation of the synthetic files is part of the
prepare stage, as on a fresh clone.

Targets (issue 28): at 80,000 clients ``after`` <= 600 s and >= 3x faster than ``before``; at the full
volume <= 3,600 s, peak RSS <= 16 GB and the champion's holdout AUC within 0.02 of the oracle's. The exit
status is 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "b7250cd"  # the last commit before issue 28's changes
DEFAULT_RUNS = ("before:80000:12700", "after:80000:12700", "after:307511:48744")
STAGE_LINE = re.compile(r"Running stage '([\w@.-]+)'")
TARGETS = {"default_seconds": 600, "default_speedup": 3.0, "full_seconds": 3600, "full_peak_gb": 16.0,
           "oracle_gap": 0.02}
FULL_CLIENTS = 307_511


def worktree(commit: str, where: Path) -> Path:
    """A detached worktree of ``commit`` at ``where`` (made anew)."""
    if where.exists():
        subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=ROOT, check=False,
                       capture_output=True)
        shutil.rmtree(where, ignore_errors=True)
    subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=True)
    subprocess.run(["git", "worktree", "add", "--detach", str(where), commit], cwd=ROOT, check=True,
                   capture_output=True)
    return where


def set_volume(project: Path, clients: int, test_clients: int) -> None:
    """Only the volume changes: the rest of the commit's own params.yaml stays as it is (comments are lost)."""
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["data"]["synthetic"] = {**params["data"]["synthetic"], "n_clients": clients,
                                   "n_test_clients": test_clients}
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    try:
        tree = [process, *process.children(recursive=True)]
    except psutil.Error:  # the process has just ended
        return 0
    total = 0
    for p in tree:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def timed_repro(project: Path, log: Path) -> dict:
    """`dvc repro` in ``project``: total and per-stage wall time and peak RSS; its output goes to ``log``."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # the stages' python, dvc
    env = {**os.environ, "PATH": path, "PYTHONUNBUFFERED": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    stages: dict[str, dict] = {}
    current = {"name": "(dvc start-up)", "start": time.perf_counter(), "peak": 0}
    lock = threading.Lock()
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(["dvc", "repro"], cwd=project, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, bufsize=1)
        watched = psutil.Process(process.pid)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                rss = tree_rss(watched)
                with lock:
                    current["peak"] = max(current["peak"], rss)
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def close(now: float) -> None:
            stages[current["name"]] = {"seconds": round(now - current["start"], 1),
                                       "peak_rss_gb": round(current["peak"] / 1e9, 2)}

        for line in process.stdout:
            out.write(line)
            out.flush()
            match = STAGE_LINE.search(line)
            if match:
                now = time.perf_counter()
                with lock:
                    close(now)
                    current.update(name=match.group(1), start=now, peak=0)
        status = process.wait()
        done.set()
        sampler.join()
        with lock:
            close(time.perf_counter())
    if status:
        raise SystemExit(f"dvc repro failed in {project} with status {status}: see {log}")
    stages.pop("(dvc start-up)", None)
    return {"seconds": round(time.perf_counter() - started, 1),
            "peak_rss_gb": max(s["peak_rss_gb"] for s in stages.values()), "stages": stages}


def outcome(project: Path) -> dict:
    """What the run decided: the champion's holdout figures and the oracle's."""
    metrics = json.loads((project / "reports/metrics/threshold.json").read_text())
    keys = ("holdout_auc", "holdout_cost_per_client", "threshold", "oracle_holdout_auc", "algorithm")
    return {k: metrics.get(k) for k in keys}


def run(spec: str, work: Path) -> dict:
    side, clients, test_clients = spec.split(":")
    commit = BEFORE if side == "before" else "HEAD" if side == "after" else side
    sha = subprocess.run(["git", "rev-parse", "--short", commit], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.strip()
    project = worktree(sha, work / f"{side}-{clients}")
    set_volume(project, int(clients), int(test_clients))
    print(f"{side} ({sha}) at {int(clients):,} + {int(test_clients):,} clients: dvc repro in {project}", flush=True)
    timing = timed_repro(project, work / f"{side}-{clients}.log")
    result = {"side": side, "commit": sha, "clients": int(clients), "test_clients": int(test_clients), **timing,
              "outcome": outcome(project)}
    print(f"  {timing['seconds']:.0f} s, peak RSS {timing['peak_rss_gb']:.2f} GB", flush=True)
    return result


def report(results: list[dict]) -> bool:
    """The runs side by side, stage by stage, and the targets; True when every target measured is met."""
    names = list(dict.fromkeys(s for r in results for s in r["stages"]))
    heads = [f"{r['side']} {r['clients'] // 1000}k" for r in results]
    print("\nstage".ljust(16) + "".join(h.rjust(22) for h in heads))
    for name in [*names, "total"]:
        cells = []
        for r in results:
            s = r if name == "total" else r["stages"].get(name)
            cells.append(f"{s['seconds']:8.1f} s {s['peak_rss_gb']:6.2f} GB" if s else "-")
        print(name.ljust(15) + "".join(c.rjust(22) for c in cells))
    print("\noutcome".ljust(16) + "".join(h.rjust(22) for h in heads))
    for key in ("holdout_auc", "oracle_holdout_auc", "holdout_cost_per_client", "threshold"):
        print(key[:15].ljust(15) + "".join(f"{r['outcome'][key]:.4f}".rjust(22) for r in results))
    checks = {}
    by = {(r["side"], r["clients"]): r for r in results}
    default = by.get(("after", 80_000))
    if default:
        checks[f"80,000 clients: after <= {TARGETS['default_seconds']} s"] = \
            default["seconds"] <= TARGETS["default_seconds"]
        if ("before", 80_000) in by:
            speedup = by[("before", 80_000)]["seconds"] / default["seconds"]
            print(f"\nspeed-up at 80,000 clients (before / after): {speedup:.2f}x")
            checks[f"80,000 clients: >= {TARGETS['default_speedup']}x faster"] = speedup >= TARGETS["default_speedup"]
    full = by.get(("after", FULL_CLIENTS))
    if full:
        gap = full["outcome"]["oracle_holdout_auc"] - full["outcome"]["holdout_auc"]
        checks[f"full volume: <= {TARGETS['full_seconds']} s"] = full["seconds"] <= TARGETS["full_seconds"]
        checks[f"full volume: peak RSS <= {TARGETS['full_peak_gb']:.0f} GB"] = \
            full["peak_rss_gb"] <= TARGETS["full_peak_gb"]
        checks[f"full volume: oracle AUC gap {gap:.4f} <= {TARGETS['oracle_gap']}"] = gap <= TARGETS["oracle_gap"]
    print()
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", default=list(DEFAULT_RUNS),
                        help="side:train:test each (side: before, after or a commit); in this order")
    parser.add_argument("--work", type=Path, default=Path("/tmp/pipeline-bench"),
                        help="scratch folder: the worktrees, dvc repro's logs, results.json")
    parser.add_argument("--report", action="store_true", help="print the saved results.json again")
    args = parser.parse_args()
    saved = args.work / "results.json"
    if args.report:
        sys.exit(0 if report(json.loads(saved.read_text())) else 1)
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for spec in args.runs:
        results.append(run(spec, args.work))
        kept = [r for r in (json.loads(saved.read_text()) if saved.exists() else [])
                if (r["side"], r["clients"]) not in {(x["side"], x["clients"]) for x in results}]
        saved.write_text(json.dumps(kept + results, indent=2))  # kept as each run ends, beside earlier runs'
    sys.exit(0 if report(json.loads(saved.read_text())) else 1)


if __name__ == "__main__":
    main()
