"""Benchmark of the featurize computation at full Kaggle volume: DuckDB (what the stage runs) against a
straightforward pandas groupby implementation of the same aggregates.

    python benchmarks/featurize_full.py --prepared DIR

DIR holds the prepared parquet tables (the prepare stage's output). Each implementation runs in its own
subprocess, reads the tables, computes the train and test feature matrices and writes them, so that its
peak RSS (getrusage of that process, DuckDB's threads included) and wall time are its own. Targets on the
2-core reference machine: DuckDB <= 120 s and <= 8 GB for the whole computation, and its history
aggregation (reading the six tables and aggregating them, the part the engines differ in) >= 3x faster
than pandas'; the exit status is 1 when one is missed.

The pandas implementation reads the same specs (`credit_scoring.features.SOURCES`) and shares the
application features and the final assembly, so the comparison isolates the history aggregation; a test
checks that both give the same numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd

from credit_scoring import features as F
from credit_scoring.schema import HISTORY_TABLES, SENTINEL_COLUMNS, SENTINEL_DAYS

TARGETS = {"seconds": 120.0, "peak_rss_gb": 8.0, "speedup": 3.0}

# ---------------------------------------------------------------------------------------------------------
# The pandas reference: the derived rows of each source written in pandas, the blocks read from the specs.
# ---------------------------------------------------------------------------------------------------------

Rows = Callable[[dict[str, pd.DataFrame], dict[str, pd.DataFrame]], pd.DataFrame]


def _bureau_credit_rows(tables: dict, done: dict) -> pd.DataFrame:
    bb = tables["bureau_balance"]
    return bb.assign(DPD_STATUS=pd.to_numeric(bb["STATUS"], errors="coerce"))


def _bureau_rows(tables: dict, done: dict) -> pd.DataFrame:
    b = tables["bureau"].merge(done["bureau_credit"], left_on="SK_ID_BUREAU", right_index=True, how="left")
    return b.assign(DEBT_CREDIT_RATIO=F.ratio(b["AMT_CREDIT_SUM_DEBT"], b["AMT_CREDIT_SUM"]))


def _previous_rows(tables: dict, done: dict) -> pd.DataFrame:
    p = tables["previous_application"].copy()
    for column in SENTINEL_COLUMNS["previous_application"]:
        p[column] = p[column].mask(p[column] == SENTINEL_DAYS)
    p["APP_CREDIT_PERC"] = F.ratio(p["AMT_APPLICATION"], p["AMT_CREDIT"])
    p["CREDIT_GOODS_RATIO"] = F.ratio(p["AMT_CREDIT"], p["AMT_GOODS_PRICE"])
    latest_first = p.sort_values(["SK_ID_CURR", "DAYS_DECISION", "SK_ID_PREV"], ascending=[True, False, False])
    p["RECENCY_RANK"] = latest_first.groupby("SK_ID_CURR").cumcount() + 1
    return p


def _late(days_late: pd.Series) -> pd.Series:
    return (days_late > 0).astype("float64").where(days_late.notna())


def _pos_rows(tables: dict, done: dict) -> pd.DataFrame:
    pos = tables["POS_CASH_balance"]
    return pos.assign(LATE=_late(pos["SK_DPD"]))


def _installment_rows(tables: dict, done: dict) -> pd.DataFrame:
    i = tables["installments_payments"]
    days_late = i["DAYS_ENTRY_PAYMENT"] - i["DAYS_INSTALMENT"]
    return i.assign(
        PAYMENT_PERC=F.ratio(i["AMT_PAYMENT"], i["AMT_INSTALMENT"]),
        PAYMENT_DIFF=i["AMT_INSTALMENT"] - i["AMT_PAYMENT"],
        DPD=days_late.clip(lower=0),
        DBD=(-days_late).clip(lower=0),
        LATE=_late(days_late),
    )


def _credit_card_rows(tables: dict, done: dict) -> pd.DataFrame:
    cc = tables["credit_card_balance"]
    return cc.assign(
        UTILISATION=F.ratio(cc["AMT_BALANCE"], cc["AMT_CREDIT_LIMIT_ACTUAL"]),
        PAYMENT_MIN_RATIO=F.ratio(cc["AMT_PAYMENT_TOTAL_CURRENT"], cc["AMT_INST_MIN_REGULARITY"]),
        LATE=_late(cc["SK_DPD"]),
    )


ROWS: dict[str, Rows] = {
    "bureau_credit": _bureau_credit_rows,
    "bureau": _bureau_rows,
    "previous_application": _previous_rows,
    "pos_cash": _pos_rows,
    "installments": _installment_rows,
    "credit_card": _credit_card_rows,
}

# Flags that are not a plain "has a row": flag -> column whose presence (not null) on any row sets it.
FLAG_PRESENCE = {"HAS_BUREAU_BALANCE": "BB_COUNT"}


def _aggregate(a: F.Aggregate, subset: pd.DataFrame, key: str) -> pd.Series:
    groups = subset.groupby(key)
    if a.func == "count":
        return groups.size()
    if a.func == "share":
        hit = subset[a.column].isna() if a.value is None else subset[a.column] == a.value
        return hit.astype("float64").groupby(subset[key]).mean()
    if a.func == "sum":
        return groups[a.column].sum(min_count=1)
    return groups[a.column].agg(a.func)


def pandas_source(source: F.Source, rows: pd.DataFrame) -> pd.DataFrame:
    """A source's aggregates with pandas groupby, in the layout of the DuckDB agg_<source> tables."""
    keys = pd.Index(np.sort(rows[source.key].unique()), name=source.key)
    flags = {
        name: (
            rows[FLAG_PRESENCE[name]].notna().groupby(rows[source.key]).max().astype("float64")
            if name in FLAG_PRESENCE
            else pd.Series(1.0, index=keys)
        )
        for name in source.flags
    }
    parts = [pd.DataFrame(flags, index=keys)]
    for block in source.blocks:
        subset = rows[block.where.mask(rows)] if block.where else rows
        specs = F.block_aggregates(block, source.table)
        part = pd.DataFrame({a.name: _aggregate(a, subset, source.key) for a in specs}).reindex(keys)
        counts = [a.name for a in specs if a.counts_rows]
        part[counts] = part[counts].fillna(0.0)
        parts.append(part)
    return pd.concat(parts, axis=1).astype("float64")


def pandas_aggregates(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every source's aggregates (the intermediate bureau_credit included), keyed by source name."""
    done: dict[str, pd.DataFrame] = {}
    for source in F.SOURCES:
        done[source.name] = pandas_source(source, ROWS[source.name](tables, done))
    return done


# ---------------------------------------------------------------------------------------------------------
# Measurement: one subprocess per implementation.
# ---------------------------------------------------------------------------------------------------------


def duckdb_history(prepared: Path) -> dict[str, pd.DataFrame]:
    with F.connect({t: prepared / f"{t}.parquet" for t in HISTORY_TABLES}) as con:
        F.build_history(con, workers=os.cpu_count() or 1)
        return F.aggregates(con)


def pandas_history(prepared: Path) -> dict[str, pd.DataFrame]:
    return pandas_aggregates({t: pd.read_parquet(prepared / f"{t}.parquet") for t in HISTORY_TABLES})


ENGINES = {"duckdb": duckdb_history, "pandas": pandas_history}


def compute(engine: str, prepared: Path, out: Path) -> float:
    """What the featurize stage computes and writes (the leakage audit aside), with one engine; returns
    the seconds spent reading the history tables and aggregating them, the part the engines differ in."""
    start = time.perf_counter()
    aggregated = ENGINES[engine](prepared)
    history_seconds = time.perf_counter() - start
    for name, keep in (("application_test", ()), ("application_train", (F.TARGET,))):
        matrix = F.assemble(pd.read_parquet(prepared / f"{name}.parquet"), aggregated, keep)
        matrix.reset_index().to_parquet(out / f"{name}.parquet", index=False)
        del matrix
    return history_seconds


def warm_page_cache(prepared: Path) -> None:
    """Read every input once, so that neither engine pays a cold disk read the other does not."""
    for path in sorted(prepared.glob("*.parquet")):
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass


def run_child(engine: str, prepared: Path) -> dict:
    """Run one engine in a fresh interpreter; return its times and peak RSS."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, __file__, "--prepared", str(prepared), "--child", engine, "--out", out]
        start = time.perf_counter()
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
    return {"wall_seconds": round(wall, 1), **json.loads(done.stdout.strip().splitlines()[-1])}


def child(engine: str, prepared: Path, out: Path) -> None:
    start = time.perf_counter()
    history_seconds = compute(engine, prepared, out)
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux reports KiB
    measured = {"compute_seconds": seconds, "history_seconds": history_seconds, "peak_rss_gb": peak_gb}
    print(json.dumps({name: round(value, 2) for name, value in measured.items()}))


def report(results: dict[str, dict]) -> bool:
    """Print both runs, the ratios and the targets; True when every target is met.

    The time and memory targets apply to the whole DuckDB computation; the speed-up target to the part
    the engines differ in (reading the history tables and aggregating them), since the application
    features, the assembly and the writing are the same code in both. The end-to-end ratio is printed too.
    """
    duck, pandas_run = results["duckdb"], results["pandas"]
    speedup = pandas_run["history_seconds"] / duck["history_seconds"]
    for engine, r in results.items():
        print(
            f"{engine:7s} compute {r['compute_seconds']:6.1f} s (history aggregates {r['history_seconds']:6.1f} s)"
            f"  wall {r['wall_seconds']:6.1f} s  peak RSS {r['peak_rss_gb']:5.2f} GB"
        )
    print(f"speed-up, history aggregates (pandas / duckdb): {speedup:.1f}x")
    print(f"speed-up, end to end (pandas / duckdb): {pandas_run['compute_seconds'] / duck['compute_seconds']:.1f}x")
    checks = {
        f"duckdb compute <= {TARGETS['seconds']:.0f} s": duck["compute_seconds"] <= TARGETS["seconds"],
        f"duckdb peak RSS <= {TARGETS['peak_rss_gb']:.0f} GB": duck["peak_rss_gb"] <= TARGETS["peak_rss_gb"],
        f"history speed-up >= {TARGETS['speedup']:.0f}x": speedup >= TARGETS["speedup"],
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepared", type=Path, required=True, help="folder of the prepared parquet tables")
    parser.add_argument("--engines", nargs="+", choices=sorted(ENGINES), default=["duckdb", "pandas"])
    parser.add_argument("--child", choices=sorted(ENGINES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.prepared, args.out)
        return
    warm_page_cache(args.prepared)
    results = {engine: run_child(engine, args.prepared) for engine in args.engines}
    if set(results) == set(ENGINES):
        sys.exit(0 if report(results) else 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
