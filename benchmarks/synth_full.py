"""Benchmark: generate the full Kaggle volume (307,511 + 48,744 clients) and report time, rows and memory.

Target on the 2-core reference machine: <= 10 minutes and <= 8 GB peak RSS.
Usage: python benchmarks/synth_full.py [--out DIR] [--n-clients N] [--n-test-clients M] [--seed S] [--keep]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from credit_scoring.dataset.schema import table
from credit_scoring.dataset.synthetic.generate import generate
from credit_scoring.dataset.synthetic.marginals import FULL_TEST_CLIENTS, FULL_TRAIN_CLIENTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the CSVs (default: a temp folder)")
    parser.add_argument("--n-clients", type=int, default=FULL_TRAIN_CLIENTS)
    parser.add_argument("--n-test-clients", type=int, default=FULL_TEST_CLIENTS)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="synth-full-"))
    start = time.perf_counter()
    rows = generate(args.n_clients, args.n_test_clients, args.seed, out / "csv", out / "truth.csv")
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    size_gb = sum(f.stat().st_size for f in (out / "csv").iterdir()) / 1e9
    print(f"\n{'table':<24}{'rows':>14}{'Kaggle rows':>14}")
    for name, n in rows.items():
        print(f"{name:<24}{n:>14,}{table(name).full_rows:>14,}")
    print(f"\nwall time {seconds:.0f} s (target <= 600 s), peak RSS {peak_gb:.2f} GB (target <= 8 GB), "
          f"CSV size {size_gb:.2f} GB")
    if not args.keep and args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
