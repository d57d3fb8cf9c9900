"""The feature build end to end against the plain pandas recipe most projects use, side by side on the same
raw CSVs: `dvc repro --force featurize` (prepare, which reads and checks the CSVs and writes typed parquet,
then featurize, which writes the feature files after the leakage audit) against
`../shared/benchmarks/pandas_reference_features.py` (read the 8 CSVs, one-hot, min/max/mean/sum/var per client
of every history table; 1,635 columns on the generated data).

    python benchmarks/featurize_full.py                       # 60,000 + 10,000 clients, then the full volume
    python benchmarks/featurize_full.py --volumes 60000:10000 --work /tmp/featurize-bench

For each volume (train:test clients) the raw CSVs are generated once into ``--work`` (kept for later runs;
the generation is not timed), read once to warm the page cache, then each side runs in its own process
tree, timed from outside (wall clock, interpreter start-up and imports included) with its peak RSS (the
largest process of the tree: DuckDB's threads included). Our side runs in a scratch DVC project holding
this checkout's pipeline code, with ``data.source: kaggle`` pointing at the raw CSVs. Targets: at least
1.5x faster than the reference at 60,000 clients, 3x at the full volume (307,511 + 48,744), peak RSS
<= 8 GB; the exit status is 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "benchmarks" / "pandas_reference_features.py"
FULL = (307_511, 48_744)
SPEED_TARGETS = {60_000: 1.5, FULL[0]: 3.0}  # train clients -> speed-up the pipeline must reach
PEAK_RSS_GB = 8.0
PROJECT_FILES = ("dvc.yaml", "stages", "credit_scoring")


def measure(command: list[str], cwd: Path) -> dict:
    """Run ``command`` in a child process tree and return its wall time and peak RSS (this process runs in
    a fresh interpreter per measurement, so RUSAGE_CHILDREN is that command's tree alone)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # the stages' `python`, `dvc`
    done = subprocess.run([sys.executable, __file__, "--measure", "--", *command], cwd=cwd, check=True,
                          capture_output=True, text=True, env={**os.environ, "PATH": path})
    return json.loads(done.stdout.strip().splitlines()[-1])


def measured_child(command: list[str]) -> None:
    start = time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{' '.join(command)} failed with status {done.returncode}")
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9  # Linux reports KiB
    print(json.dumps({"seconds": round(seconds, 2), "peak_rss_gb": round(peak_gb, 2)}))


def raw_csvs(work: Path, clients: int, test_clients: int, seed: int) -> Path:
    """The generated Kaggle-format CSVs of one volume, made once."""
    raw = work / f"raw-{clients}-{test_clients}-{seed}"
    if not (raw / ".complete").is_file():
        shutil.rmtree(raw, ignore_errors=True)
        print(f"  generating {clients:,} + {test_clients:,} clients into {raw} (not timed)", flush=True)
        subprocess.run(
            [sys.executable, "-m", "credit_scoring.dataset.synthetic", "--n-clients", str(clients), "--n-test-clients",
             str(test_clients), "--seed", str(seed), "--out", str(raw), "--truth", str(work / "truth.csv")],
            cwd=ROOT, check=True, capture_output=True,
        )
        (raw / ".complete").touch()
    return raw


def scratch_project(work: Path, raw: Path) -> Path:
    """A DVC project with this checkout's pipeline code and params, reading the raw CSVs as a Kaggle folder."""
    project = work / "project"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, project / name)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"] = {**params["data"], "source": "kaggle", "kaggle_dir": str(raw)}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["dvc", "init", "--no-scm", "-q"], cwd=project, check=True)
    return project


def warm_page_cache(raw: Path) -> None:
    """Read every CSV once, so that neither side pays a cold disk read the other does not."""
    for path in sorted(raw.glob("*.csv")):
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass


def run_volume(work: Path, clients: int, test_clients: int, seed: int, reference: Path) -> dict:
    raw = raw_csvs(work, clients, test_clients, seed)
    warm_page_cache(raw)
    project = scratch_project(work, raw)
    ours = measure(["dvc", "repro", "--force", "featurize"], project)
    stages = {s: json.loads((project / f"reports/metrics/{s}.json").read_text())["seconds"]
              for s in ("prepare", "featurize")}
    theirs = measure([sys.executable, str(reference), str(raw), str(work / "reference.parquet")], work)
    schema = pq.read_schema(work / "reference.parquet")
    theirs["columns"] = len(schema.names) - len((schema.pandas_metadata or {}).get("index_columns", []))  # no id
    features = json.loads((project / "reports/metrics/featurize.json").read_text())["features"]
    return {"clients": clients, "test_clients": test_clients, "pipeline": {**ours, "stages": stages,
            "features": features}, "reference": theirs, "speedup": round(theirs["seconds"] / ours["seconds"], 2)}


def report(results: list[dict]) -> bool:
    """Print the runs side by side and the targets; True when every target is met."""
    checks = {}
    for r in results:
        ours, theirs = r["pipeline"], r["reference"]
        print(f"\n{r['clients']:,} + {r['test_clients']:,} clients")
        print(f"  dvc repro --force featurize  {ours['seconds']:7.1f} s  peak RSS {ours['peak_rss_gb']:5.2f} GB"
              f"  (prepare {ours['stages']['prepare']:.1f} s, featurize {ours['stages']['featurize']:.1f} s;"
              f" {ours['features']} features)")
        print(f"  pandas reference recipe      {theirs['seconds']:7.1f} s  peak RSS {theirs['peak_rss_gb']:5.2f} GB"
              f"  ({theirs['columns']} columns)")
        print(f"  speed-up (reference / pipeline): {r['speedup']:.2f}x")
        target = SPEED_TARGETS.get(r["clients"])
        if target:
            checks[f"{r['clients']:,} clients: speed-up >= {target}x"] = r["speedup"] >= target
        checks[f"{r['clients']:,} clients: peak RSS <= {PEAK_RSS_GB:.0f} GB"] = ours["peak_rss_gb"] <= PEAK_RSS_GB
    print()
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return all(checks.values())


def volume(text: str) -> tuple[int, int]:
    train, _, test = text.partition(":")
    return int(train), int(test)


def main() -> None:
    if "--measure" in sys.argv:
        measured_child(sys.argv[sys.argv.index("--") + 1 :])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volumes", nargs="+", type=volume, default=[(60_000, 10_000), FULL],
                        help="train:test clients of each volume (default: 60000:10000 and the full volume)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/featurize-bench"),
                        help="scratch folder: generated CSVs (kept), the scratch project, the reference output")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="the pandas recipe to compare with")
    args = parser.parse_args()
    if not args.reference.is_file():
        raise SystemExit(f"the reference recipe is not at {args.reference} (give --reference)")
    args.work.mkdir(parents=True, exist_ok=True)
    results = [run_volume(args.work, clients, test, args.seed, args.reference) for clients, test in args.volumes]
    (args.work / "results.json").write_text(json.dumps(results, indent=2))
    sys.exit(0 if report(results) else 1)


if __name__ == "__main__":
    main()
