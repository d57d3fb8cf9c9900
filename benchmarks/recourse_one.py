"""Benchmark of one refused client's recourse, in process, as the API computes it.

    python benchmarks/recourse_one.py [--model-dir models/champion] [--explain-dir models/explain] [--data-dir data]
                                      [--clients 200]

Loads the service the API serves (`ScoringService.load`: the champion, the explain stage's export, the known
clients), takes the first `--clients` refused clients (by the served decision), and times
`Scoring.recourse` for each: the searches over amounts and durations and the final scoring of the proposals,
all through the normal scoring path. Prints the median and the 90th percentile, how many proposals were found,
and checks each proposal is granted. Target on the 2-core reference machine: median <= 100 ms; the exit status
is 1 when it is missed or when a proposal is not granted.
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

from app.api.service import ScoringService
from app.api.service.population import DECISION
from credit_scoring.modeling.bundle import DECISION_REFUSED

TARGET_MEDIAN_MS = 100.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models/champion")
    parser.add_argument("--explain-dir", type=Path, default=ROOT / "models/explain")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args(argv)

    service = ScoringService.load(args.model_dir, args.explain_dir, args.data_dir)
    table = service.table
    refused = [int(i) for i in table.index[table[DECISION] == DECISION_REFUSED][: args.clients]]
    scoring = service.scoring
    applications = [scoring.merged_application({}, c) for c in refused]
    scoring.recourse(applications[0], refused[0])  # warm-up, untimed
    timings, kinds, not_granted, without = [], {}, 0, 0
    for client_id, application in zip(refused, applications, strict=True):
        started = time.perf_counter()
        found = scoring.recourse(application, client_id)
        timings.append((time.perf_counter() - started) * 1000)
        without += not found.proposals
        for proposal in found.proposals:
            kinds[proposal.kind] = kinds.get(proposal.kind, 0) + 1
            not_granted += proposal.probability >= service.bundle.threshold
    ms = np.array(timings)
    print(f"recourse of {len(refused)} refused clients (model version {service.bundle.model_version})")
    print(f"  median {np.median(ms):.1f} ms   p90 {np.percentile(ms, 90):.1f} ms   max {ms.max():.1f} ms "
          f"(target: median <= {TARGET_MEDIAN_MS:.0f} ms)")
    print(f"  proposals by kind: {dict(sorted(kinds.items()))}; clients without any: {without}; "
          f"proposals not granted: {not_granted}")
    return int(np.median(ms) > TARGET_MEDIAN_MS or not_granted > 0)


if __name__ == "__main__":
    sys.exit(main())
