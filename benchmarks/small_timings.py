"""Timings that unit tests used to assert, measured here instead (issue 33: no clock inside a test): the client's
letter rendered to PDF, and the threshold stage's paired bootstrap at the default holdout's size.

    python benchmarks/small_timings.py [--repeats 5]

Each is timed once cold (the process's first call: typst and scipy load fonts and code), then ``--repeats`` times;
the cold time and the median are both held to the target. The exit status is 1 when one is missed.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGETS = {"letter": 1.0, "bootstrap": 30.0}  # seconds, median


def letter() -> Callable[[], object]:
    from credit_scoring.modeling.bundle import DECISION_REFUSED
    from credit_scoring.production import letter as L

    content = L.LetterContent(
        reference="PAD-100002-3f2a9c1b", issued=datetime.date(2026, 11, 30), client_id=100002,
        decision=DECISION_REFUSED, model_version="7",
        reasons=["Vos remboursements passés auprès d'autres organismes ont connu des retards.",
                 "Le montant des mensualités représente une part élevée de vos revenus.",
                 "Votre emploi actuel est récent (moins d'un an)."],
        proposals=["Un crédit de 180\u202f000\u202f€ sur la même durée aurait été accepté."],
        amount=250000, annuity=11800.4, duration_months=24)
    return lambda: L.render_letter(content)


def bootstrap() -> Callable[[], object]:
    """1,000 paired resamples of 16,000 clients for two models (the default holdout, `threshold.bootstrap`)."""
    from credit_scoring.modeling.uncertainty import compare_models

    rng = np.random.default_rng(5)
    p = rng.beta(1.2, 12, 16_000)  # scores with a default rate near 8 %, as in the tests
    y = (rng.random(len(p)) < p).astype(int)
    return lambda: compare_models(y, [p, p ** 1.1], [0.09, 0.09], {"fn": 10, "fp": 1}, 1000, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ok = True
    for name, make in (("letter", letter), ("bootstrap", bootstrap)):
        run = make()
        start = time.perf_counter()
        run()  # warm-up: the first call of the process (fonts, code) is timed apart
        first = time.perf_counter() - start
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds)
        met = max(median, first) <= TARGETS[name]
        ok &= met
        print(f"{'PASS' if met else 'FAIL'}  {name:<10} first call {first:.3f} s, then median {median:.3f} s "
              f"(min {min(seconds):.3f}, max {max(seconds):.3f}); target <= {TARGETS[name]:.1f} s for both")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
