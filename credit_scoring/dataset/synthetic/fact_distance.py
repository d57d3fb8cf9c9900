"""How far a table is from the measured facts of its joint structure, family by family.

The facts (``home_credit_fidelity.json``: ``application_train_joint``, ``application_train_dependence`` and
``history_dependence``) describe what real rows show beyond each column on its own: which categories go
together, where a number sits within each category, which day comes first, how amounts relate, which columns
move or go missing together. Each function here measures one family on a frame, as one number: 0 when the
frame shows exactly what the facts say. The same numbers measured on a real sample say how far sampling noise
alone puts real rows; a generator is faithful to a family when it is no farther than that.

Distances (all in shares, so families read alike):

- ``cells``: per category pair, the total variation distance over the listed cells (those holding >= 0.5 % of
  the rows) and the rest taken together;
- ``within_category``: per (category, number, level), how far each measured quantile (10, 25, 50, 75, 90 %) of
  the number within the level sits from its place among the frame's values (0 when the frame puts it at its
  share; a point mass counts as the whole stretch it covers), plus the gap in the share missing;
- ``orderings``: per pair of day columns, the gaps in the shares "earlier" and "same day";
- ``ratios``: per ratio of tied amounts, the same quantile gap over its 5 %..95 % percentiles, plus the gaps in
  the shares "equal" and "numerator zero";
- ``rank_correlations``: per pair, the absolute gap in Spearman's rho;
- ``missing_together``: per pair, the absolute gap in the phi coefficient of the two "is missing" flags.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from credit_scoring.dataset.schema import SENTINEL_DAYS
from credit_scoring.dataset.synthetic import fidelity

MISSING = "<missing>"
MIN_LEVEL_ROWS = 30  # a level's quantiles are compared only where the frame holds this many of its rows
QUANTILES = np.array([0.10, 0.25, 0.50, 0.75, 0.90])
RATIO_PERCENTILES = np.linspace(0.0, 1.0, 21)


def table_facts(table_name: str) -> dict[str, dict]:
    """The joint-structure facts of one table, by family (the families the facts give for it)."""
    facts = fidelity.facts()
    if table_name == "application_train":
        joint, dependence = facts["application_train_joint"], facts["application_train_dependence"]
        source = {**joint, **dependence}
    else:
        source = facts["history_dependence"][table_name]
    names = {
        "cells": "category_pairs_cramers_v_ge_0_1",
        "within_category": "numeric_by_category_eta_ge_0_1",
        "orderings": "day_orderings",
        "ratios": "amount_ratios_rho_ge_0_5",
        "rank_correlations": "spearman_pairs_abs_ge_0_1",
        "missing_together": "missing_together_phi_abs_ge_0_3",
    }
    return {family: source[key] for family, key in names.items() if source.get(key)}


def _labels(values: pd.Series) -> np.ndarray:
    """Category values as the facts write them: text, a missing value as ``<missing>``."""
    out = values.astype(object).where(values.notna(), MISSING)
    return np.array([_text(v) for v in out], dtype=object)


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column as floats, a day count's 365243 (no job, no date) as missing, as the facts measure it."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    if column.startswith("DAYS_"):
        values = np.where(values == SENTINEL_DAYS, np.nan, values)
    return values


def cells_distance(frame: pd.DataFrame, pair: str, spec: dict) -> float | None:
    """Total variation distance between the frame's shares of the pair's cells and the measured ones."""
    a, b = pair.split("|")
    if a not in frame or b not in frame or not len(frame):
        return None
    observed = pd.Series(_labels(frame[a]) + "|" + _labels(frame[b])).value_counts(normalize=True)
    cells = spec["cells_ge_0_5pct"]
    listed = np.array([observed.get(cell, 0.0) for cell in cells])
    wanted = np.array(list(cells.values()))
    rest = abs((1 - listed.sum()) - (1 - wanted.sum()))
    return float(0.5 * (np.abs(listed - wanted).sum() + rest))


def quantile_gap(values: np.ndarray, points: np.ndarray, shares: np.ndarray) -> float:
    """Mean distance between each share and the stretch of the sorted ``values`` its point covers: 0 when a
    share falls within [share below the point, share at or below it]."""
    values = np.sort(values[~np.isnan(values)])
    if not len(values):
        return float("nan")
    below = np.searchsorted(values, points, side="left") / len(values)
    at_or_below = np.searchsorted(values, points, side="right") / len(values)
    gap = np.where(shares < below, below - shares, np.where(shares > at_or_below, shares - at_or_below, 0.0))
    return float(gap.mean())


def within_category_distance(frame: pd.DataFrame, pair: str, spec: dict) -> list[float]:
    """One distance per level with enough rows: the quantile gap of the number within the level plus the gap
    in its share missing."""
    cat, num = pair.split("->")
    if cat not in frame or num not in frame:
        return []
    labels, values = _labels(frame[cat]), _numbers(frame, num)
    out = []
    for level, facts in spec["by_level"].items():
        rows = labels == level
        if rows.sum() < MIN_LEVEL_ROWS:
            continue
        within = values[rows]
        missing_gap = abs(np.isnan(within).mean() - facts["share_missing"])
        quantiles = facts.get("quantiles_10_25_50_75_90")
        present = ~np.isnan(within)
        gap = quantile_gap(within, np.asarray(quantiles, dtype=float), QUANTILES) \
            if quantiles is not None and present.sum() >= MIN_LEVEL_ROWS else 0.0
        out.append(float(gap + missing_gap))
    return out


def ordering_distance(frame: pd.DataFrame, pair: str, spec: dict) -> float | None:
    """Gaps in the shares of rows where the first day comes earlier, and on the same day."""
    a, b = pair.split("|")
    if a not in frame or b not in frame:
        return None
    x, y = _numbers(frame, a), _numbers(frame, b)
    both = ~np.isnan(x) & ~np.isnan(y)
    if not both.any():
        return None
    x, y = x[both], y[both]
    return float(abs(np.mean(x < y) - spec["a_lt_b"]) + abs(np.mean(x == y) - spec["a_eq_b"]))


def ratio_values(frame: pd.DataFrame, ratio: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Numerator and denominator of a ratio where both are known (``A*B/C`` multiplies the first two)."""
    top, bottom = ratio.split("/")
    names = [*top.split("*"), bottom]
    if any(n not in frame for n in names):
        return None
    parts = [_numbers(frame, n) for n in names]
    a = np.prod(parts[:-1], axis=0)
    both = ~np.isnan(a) & ~np.isnan(parts[-1])
    return a[both], parts[-1][both]


def ratio_distance(frame: pd.DataFrame, ratio: str, spec: dict) -> float | None:
    """The quantile gap of a ratio over its 5 %..95 % percentiles, plus the gaps in "equal" and "numerator
    zero" where the facts give them."""
    pair = ratio_values(frame, ratio)
    if pair is None or not len(pair[0]):
        return None
    a, b = pair
    nonzero = b != 0
    points = np.asarray(spec["percentiles_0_5_to_100"], dtype=float)[1:-1]
    gap = quantile_gap(a[nonzero] / b[nonzero], points, RATIO_PERCENTILES[1:-1]) if nonzero.any() else 1.0
    if "share_equal" in spec:
        gap += abs(np.mean(a == b) - spec["share_equal"])
    if "share_a_zero" in spec:
        gap += abs(np.mean(a == 0) - spec["share_a_zero"])
    return float(gap)


def rank_correlation_distances(frame: pd.DataFrame, pairs: dict[str, float]) -> list[float]:
    """Absolute gaps in Spearman's rho (pairwise complete rows), one per pair whose columns the frame holds."""
    wanted = [(p.split("|"), rho) for p, rho in pairs.items()]
    wanted = [((a, b), rho) for (a, b), rho in wanted if a in frame and b in frame]
    columns = sorted({c for (a, b), _ in wanted for c in (a, b)})
    ranks = pd.DataFrame({c: _numbers(frame, c) for c in columns}).rank()
    corr = ranks.corr(min_periods=MIN_LEVEL_ROWS)
    gaps = [abs(corr.loc[a, b] - rho) for (a, b), rho in wanted]
    return [float(g) for g in gaps if not np.isnan(g)]


def missing_together_distances(frame: pd.DataFrame, pairs: dict[str, float]) -> list[float]:
    """Absolute gaps in the phi coefficient of "is missing" flags (a flag that never varies counts as 0)."""
    wanted = [(p.split("|"), phi) for p, phi in pairs.items()]
    wanted = [((a, b), phi) for (a, b), phi in wanted if a in frame and b in frame]
    columns = sorted({c for (a, b), _ in wanted for c in (a, b)})
    flags = frame[columns].isna().astype(float)
    corr = flags.corr().fillna(0.0)
    return [float(abs(corr.loc[a, b] - phi)) for (a, b), phi in wanted]


def _per_item(measure: Callable) -> Callable[[pd.DataFrame, dict], list[float]]:
    def distances(frame: pd.DataFrame, items: dict) -> list[float]:
        out = []
        for key, spec in items.items():
            got = measure(frame, key, spec)
            out.extend(got if isinstance(got, list) else [] if got is None else [got])
        return [d for d in out if not np.isnan(d)]
    return distances


FAMILIES: dict[str, Callable[[pd.DataFrame, dict], list[float]]] = {
    "cells": _per_item(cells_distance),
    "within_category": _per_item(within_category_distance),
    "orderings": _per_item(ordering_distance),
    "ratios": _per_item(ratio_distance),
    "rank_correlations": rank_correlation_distances,
    "missing_together": missing_together_distances,
}


def derived_facts(table_name: str) -> dict[str, dict]:
    """Derived ratios the facts give a history table (previous applications: total repaid per unit lent)."""
    if table_name == "application_train":
        return {}
    derived = fidelity.facts()["history_dependence"][table_name].get("derived") or {}
    return {key.split(" (")[0]: spec for key, spec in derived.items()}


def distances(frame: pd.DataFrame, table_name: str) -> dict[str, tuple[float, int]]:
    """Every family's mean distance for this table and how many comparisons it averages."""
    facts = table_facts(table_name)
    derived = derived_facts(table_name)
    if derived:
        facts["ratios"] = {**facts.get("ratios", {}), **derived}
    out = {}
    for family, items in facts.items():
        found = FAMILIES[family](frame, items)
        out[family] = (float(np.mean(found)) if found else float("nan"), len(found))
    return out
