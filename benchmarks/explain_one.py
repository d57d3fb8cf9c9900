"""Benchmark of one client's local explanation, in process, as the API runs it.

    python benchmarks/explain_one.py [--model-dir models/champion] [--explain-dir models/explain]
                                     [--features data/features/train.parquet] [--clients 200]

The feature rows are computed beforehand (one-row frames, as the API computes them: `application_features` and
the featurize stage's history aggregates): what is timed is `local_explanation` on the champion, then the reason
codes when the explain stage's export is there, each call on another client. Target on the 2-core reference
machine: median <= 20 ms; the exit status is 1 when it is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np
import pyarrow.parquet as pq

from credit_scoring.explain.local import load_explain_config, local_explanation
from credit_scoring.modeling.bundle import load_bundle

TARGET_MEDIAN_MS = 20.0


def first_rows(path: Path, n: int):
    """The first `n` clients of a feature file, without reading the rest of it."""
    batch = next(pq.ParquetFile(path).iter_batches(batch_size=n))
    return batch.to_pandas()


def time_calls(call, rows) -> np.ndarray:
    """Milliseconds of `call(row)` for each row, after one untimed warm-up call."""
    call(rows[0])
    out = []
    for row in rows:
        started = time.perf_counter()
        call(row)
        out.append((time.perf_counter() - started) * 1000)
    return np.array(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models/champion")
    parser.add_argument("--explain-dir", type=Path, default=ROOT / "models/explain")
    parser.add_argument("--features", type=Path, default=ROOT / "data/features/train.parquet")
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args(argv)

    bundle = load_bundle(args.model_dir)
    frame = first_rows(args.features, args.clients)
    rows = [frame.iloc[[i]] for i in range(len(frame))]
    timings = {"local_explanation": time_calls(lambda row: local_explanation(bundle, row), rows)}
    if (args.explain_dir / "explain.json").exists():
        config = load_explain_config(args.explain_dir, bundle)
        timings["local_explanation + reason codes"] = time_calls(
            lambda row: config.reasons(local_explanation(bundle, row)), rows)

    print(f"{len(rows)} clients, model {bundle.info.get('algorithm')} version {bundle.model_version}, "
          f"{len(bundle.features)} features")
    for name, ms in timings.items():
        print(f"{name:34s} median {np.median(ms):6.2f} ms   p95 {np.percentile(ms, 95):6.2f} ms   "
              f"max {ms.max():6.2f} ms")
    median = float(np.median(timings["local_explanation"]))
    ok = median <= TARGET_MEDIAN_MS
    print(f"target: median <= {TARGET_MEDIAN_MS:g} ms -> {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
