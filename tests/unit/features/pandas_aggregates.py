"""A plain pandas implementation of the history aggregates of `credit_scoring.features.SOURCES`, written
independently of the SQL the features run: `test_features` checks that both compute the same numbers, so a
mistake in the generated SQL cannot hide. (It was the featurize benchmark's yardstick before the benchmark
moved to the shared pandas recipe, `../shared/benchmarks/pandas_reference_features.py`.)

The derived rows of each source are written in pandas; the blocks are read from the same specs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from credit_scoring.dataset.schema import SENTINEL_COLUMNS, SENTINEL_DAYS
from credit_scoring.features.application import ratio
from credit_scoring.features.history_specs import SOURCES, Aggregate, Source, block_aggregates

Rows = Callable[[dict[str, pd.DataFrame], dict[str, pd.DataFrame]], pd.DataFrame]


def _bureau_credit_rows(tables: dict, done: dict) -> pd.DataFrame:
    bb = tables["bureau_balance"]
    return bb.assign(DPD_STATUS=pd.to_numeric(bb["STATUS"], errors="coerce"))


def _bureau_rows(tables: dict, done: dict) -> pd.DataFrame:
    b = tables["bureau"].merge(done["bureau_credit"], left_on="SK_ID_BUREAU", right_index=True, how="left")
    return b.assign(DEBT_CREDIT_RATIO=ratio(b["AMT_CREDIT_SUM_DEBT"], b["AMT_CREDIT_SUM"]))


def _previous_rows(tables: dict, done: dict) -> pd.DataFrame:
    p = tables["previous_application"].copy()
    for column in SENTINEL_COLUMNS["previous_application"]:
        p[column] = p[column].mask(p[column] == SENTINEL_DAYS)
    p["APP_CREDIT_PERC"] = ratio(p["AMT_APPLICATION"], p["AMT_CREDIT"])
    p["CREDIT_GOODS_RATIO"] = ratio(p["AMT_CREDIT"], p["AMT_GOODS_PRICE"])
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
        PAYMENT_PERC=ratio(i["AMT_PAYMENT"], i["AMT_INSTALMENT"]),
        PAYMENT_DIFF=i["AMT_INSTALMENT"] - i["AMT_PAYMENT"],
        DPD=days_late.clip(lower=0),
        DBD=(-days_late).clip(lower=0),
        LATE=_late(days_late),
    )


def _credit_card_rows(tables: dict, done: dict) -> pd.DataFrame:
    cc = tables["credit_card_balance"]
    return cc.assign(
        UTILISATION=ratio(cc["AMT_BALANCE"], cc["AMT_CREDIT_LIMIT_ACTUAL"]),
        PAYMENT_MIN_RATIO=ratio(cc["AMT_PAYMENT_TOTAL_CURRENT"], cc["AMT_INST_MIN_REGULARITY"]),
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


def _aggregate(a: Aggregate, subset: pd.DataFrame, key: str) -> pd.Series:
    groups = subset.groupby(key)
    if a.func == "count":
        return groups.size()
    if a.func == "share":
        hit = subset[a.column].isna() if a.value is None else subset[a.column] == a.value
        return hit.astype("float64").groupby(subset[key]).mean()
    if a.func == "sum":
        return groups[a.column].sum(min_count=1)
    return groups[a.column].agg(a.func)


def pandas_source(source: Source, rows: pd.DataFrame) -> pd.DataFrame:
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
        specs = block_aggregates(block, source.table)
        part = pd.DataFrame({a.name: _aggregate(a, subset, source.key) for a in specs}).reindex(keys)
        counts = [a.name for a in specs if a.counts_rows]
        part[counts] = part[counts].fillna(0.0)
        parts.append(part)
    return pd.concat(parts, axis=1).astype("float64")


def pandas_aggregates(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every source's aggregates (the intermediate bureau_credit included), keyed by source name."""
    done: dict[str, pd.DataFrame] = {}
    for source in SOURCES:
        done[source.name] = pandas_source(source, ROWS[source.name](tables, done))
    return done
