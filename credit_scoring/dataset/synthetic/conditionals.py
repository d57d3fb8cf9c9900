"""Categories that belong together, and numbers that follow their category: a sequence of conditionals over
the measured facts.

The facts give, for every pair of categorical columns whose Cramér's V reaches 0.1, the shares of the cells
holding at least 0.5 % of the rows, and for every (category, number) pair whose rank eta reaches 0.1 the
number's quantiles within each level. From them:

- ``pair_table`` completes a pair's measured cells into a whole joint table (the unlisted cells share what the
  listed ones leave, as independent as the margins allow: iterative proportional fitting);
- ``conditional_draw`` draws a column given the columns already drawn (its parents): each row's distribution
  over the levels is the maximum-entropy one whose pairs with every parent are the measured tables (raking
  over the parents' observed combinations), and the row's copula uniform picks the level in risk order, so
  the copula's ties to the other columns and to the risk survive;
- ``conditional_uniform`` moves a number's copula uniform so that, within the levels of its categories, the
  values land on the measured quantiles while the column keeps its overall marginal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

MISSING = "<missing>"
RAKING_ROUNDS = 40


def _labels(values) -> np.ndarray:
    """Category values as the facts write them: text, a missing value as ``<missing>``."""
    out = np.asarray(values, dtype=object).copy()
    out[pd.isna(out)] = MISSING
    return out


def pair_table(cells: dict[str, float], rows: dict[str, float], columns: dict[str, float],
               rounds: int = 200) -> pd.DataFrame:
    """The joint shares of two columns: the measured ``cells`` ("a|b" -> share) where given, the rest filled so
    that the table's margins are ``rows`` and ``columns`` (each summing to 1), as close to independence as
    they allow. Cells naming a level outside the margins are dropped."""
    r_levels, c_levels = list(rows), list(columns)
    r_index, c_index = {v: i for i, v in enumerate(r_levels)}, {v: i for i, v in enumerate(c_levels)}
    fixed = np.zeros((len(r_levels), len(c_levels)))
    known = np.zeros_like(fixed, dtype=bool)
    for cell, share in cells.items():
        a, b = _split_cell(cell, r_index, c_index)
        if a is not None:
            fixed[a, b], known[a, b] = share, True
    p_rows = np.array([rows[v] for v in r_levels], dtype=float)
    p_cols = np.array([columns[v] for v in c_levels], dtype=float)
    scale = fixed.sum()
    if scale > 1:  # the listed cells may not fit margins measured on other rows
        fixed /= scale
    free = np.where(known, 0.0, np.outer(p_rows, p_cols))
    want_rows = np.maximum(p_rows - fixed.sum(axis=1), 0.0)
    want_cols = np.maximum(p_cols - fixed.sum(axis=0), 0.0)
    for _ in range(rounds):
        have = free.sum(axis=1)
        free *= np.divide(want_rows, have, out=np.zeros_like(have), where=have > 0)[:, None]
        have = free.sum(axis=0)
        free *= np.divide(want_cols, have, out=np.zeros_like(have), where=have > 0)[None, :]
    table = fixed + free
    return pd.DataFrame(table / table.sum(), index=r_levels, columns=c_levels)


def _split_cell(cell: str, r_index: dict, c_index: dict) -> tuple[int | None, int | None]:
    """The (row, column) of "a|b" where both levels are known (a level may itself hold a "|")."""
    for cut in range(len(cell)):
        if cell[cut] == "|" and cell[:cut] in r_index and cell[cut + 1:] in c_index:
            return r_index[cell[:cut]], c_index[cell[cut + 1:]]
    return None, None


def conditional_draw(parents: dict[str, np.ndarray], tables: dict[str, pd.DataFrame], levels: list[str],
                     shares: np.ndarray, u: np.ndarray, strata: np.ndarray | None = None,
                     strata_allowed: dict | None = None) -> np.ndarray:
    """Levels of a column given its parents' drawn values.

    ``tables[p]`` is the joint table (parent levels x ``levels``) of the column with parent ``p``; ``shares`` the
    column's own shares over ``levels`` (in the order the uniforms ``u`` walk them: risk order). Each
    combination of parent values gets the distribution whose pair with every parent matches the tables'
    conditionals on the rows drawn (raking); ``strata`` (a row label, e.g. "has no job") with
    ``strata_allowed`` (label -> 0/1 weights over ``levels``) forbids levels where a rule does. Returns the
    level of each row.
    """
    codes, weights = _raked(parents, tables, levels, shares, len(u), strata, strata_allowed)
    picked, _, _ = _walk(np.cumsum(weights, axis=1), codes, u)
    return np.asarray(levels, dtype=object)[picked]


def _walk(cum: np.ndarray, codes: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each row's uniform falls in its combination's cumulative shares: the index, and the shares
    below and up to it (column by column: memory stays one row's worth per column, not rows x levels)."""
    picked = np.zeros(len(u), dtype=np.int64)
    for k in range(cum.shape[1] - 1):
        picked += cum[codes, k] < u
    rows_cum = cum.reshape(-1)
    at = codes * cum.shape[1] + picked
    high = rows_cum[at]
    low = np.where(picked > 0, rows_cum[np.maximum(at - 1, 0)], 0.0)
    return picked, low, high


def conditional_uniform(u: np.ndarray, parents: dict[str, np.ndarray], by_level: dict[str, dict], marginal,
                        bins: int = 20) -> np.ndarray:
    """Uniforms that put a number's values, within the levels of several categories at once, on the levels'
    measured quantiles (10, 25, 50, 75, 90 %).

    The number's place in its overall ``marginal`` (a ``fidelity.Marginal``) is cut into ``bins`` equal
    stretches; each category's facts say how a level's rows spread over them (``level_spread``); raking gives
    each combination of the rows' levels the spread that agrees with every category at once, and each row's
    copula uniform ``u`` walks its combination's spread (monotone: the copula's ranks survive within it).
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    tables = {}
    for name, levels in by_level.items():
        labels = _labels(parents[name])
        present = pd.Series(labels).value_counts(normalize=True)
        rows = {level: level_spread(levels.get(level), marginal, edges) * share for level, share in present.items()}
        tables[name] = pd.DataFrame(rows).T
    columns = list(range(bins))
    codes, weights = _raked(parents, {k: t.set_axis(columns, axis=1) for k, t in tables.items()}, columns,
                            np.full(bins, 1.0 / bins), len(u))
    u = _uniform_within(u, codes)
    j, low, high = _walk(np.cumsum(weights, axis=1), codes, u)
    width = high - low
    frac = np.divide(u - low, width, out=np.full(len(u), 0.5), where=width > 0)
    return np.clip(edges[j] + np.clip(frac, 0, 1) * (edges[j + 1] - edges[j]), 1e-9, 1 - 1e-9)


def raked_share(parents: dict[str, np.ndarray], by_level: dict[str, dict], key: str, overall: float) -> np.ndarray:
    """Each row's probability of a yes/no attribute (``key`` of the levels' facts, e.g. "share_missing") given
    the levels of several categories at once (raking); ``overall`` where a level's facts do not say."""
    tables = {}
    for name, levels in by_level.items():
        present = pd.Series(_labels(parents[name])).value_counts(normalize=True)
        rows = {}
        for level, share in present.items():
            p = (levels.get(level) or {}).get(key, overall)
            rows[level] = np.array([p, 1 - p]) * share
        tables[name] = pd.DataFrame(rows).T.set_axis([0, 1], axis=1)
    n = len(next(iter(parents.values())))
    codes, weights = _raked(parents, tables, [0, 1], np.array([overall, 1 - overall]), n)
    return weights[codes, 0]


def _uniform_within(u: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The uniforms made uniform within each combination, in the same order: a copula that already ties the
    number to its categories would otherwise shift it twice. (rank - 1 + u) / size keeps a lone row's own
    uniform and tends to rank / size in a large combination."""
    order = np.lexsort((u, codes))
    sizes = np.bincount(codes)
    starts = np.cumsum(sizes) - sizes
    rank = np.empty(len(u))
    rank[order] = np.arange(len(u)) - starts[codes[order]]
    return np.clip((rank + u) / sizes[codes], 1e-9, 1 - 1e-9)


def level_spread(facts: dict | None, marginal, edges: np.ndarray) -> np.ndarray:
    """How a level's rows spread over stretches (``edges``) of the number's overall uniform scale, from the
    level's measured quantiles; even where the facts say nothing usable (no quantiles, or one value at all)."""
    quantiles = (facts or {}).get("quantiles_10_25_50_75_90")
    if quantiles is None or len(set(quantiles)) == 1:
        return np.diff(edges)
    places = np.concatenate([[0.0], quantile_places(np.asarray(quantiles, dtype=float), marginal), [1.0]])
    shares = np.array([0.0, 0.10, 0.25, 0.50, 0.75, 0.90, 1.0])
    return np.diff(np.interp(edges, places, shares))


def _raked(parents: dict[str, np.ndarray], tables: dict[str, pd.DataFrame], levels: list, shares: np.ndarray,
           n: int, strata: np.ndarray | None = None, strata_allowed: dict | None = None):
    """Each row's combination of parent values (its code) and each combination's distribution over ``levels``:
    the one closest to ``shares`` whose pair with every parent matches that parent's table."""
    names = list(parents)
    keys = [_labels(parents[p]) for p in names]
    if strata is not None:
        keys.append(_labels(strata))
    if keys:
        combined = np.zeros(n, dtype=np.int64)
        for key in keys:
            codes, uniques = pd.factorize(key)
            combined = combined * (len(uniques) + 1) + codes
        first, codes = np.unique(combined, return_index=True, return_inverse=True)[1:]
        combos = np.stack([key[first] for key in keys], axis=1)
    else:
        codes, combos = np.zeros(n, dtype=np.int64), np.empty((1, 0), dtype=object)
    counts = np.bincount(codes, minlength=len(combos)).astype(float)
    weights = np.tile(np.asarray(shares, dtype=float), (len(combos), 1))
    if strata is not None and strata_allowed:
        for k, label in enumerate(combos[:, -1]):
            mask = strata_allowed.get(label)
            if mask is not None:
                weights[k] *= mask
    weights = _normalized(weights)
    targets = []
    for i, p in enumerate(names):
        table = tables[p].reindex(columns=levels, fill_value=0.0)
        conditional = _normalized(table.to_numpy(dtype=float))
        where = pd.Index(table.index).get_indexer(combos[:, i])
        known = np.flatnonzero(where >= 0)
        # combinations -> parent levels, weighted by how many rows each combination holds
        gather = sparse.csr_matrix((counts[known], (where[known], known)), shape=(len(table.index), len(combos)))
        targets.append((where, known, gather, conditional))
    for _ in range(RAKING_ROUNDS if targets else 0):
        for where, known, gather, conditional in targets:
            have = gather @ weights
            want = conditional * have.sum(axis=1, keepdims=True)
            ratio = np.divide(want, have, out=np.ones_like(have), where=have > 0)
            weights[known] *= ratio[where[known]]
            weights = _normalized(weights)
    return codes, weights


def _normalized(weights: np.ndarray) -> np.ndarray:
    totals = weights.sum(axis=1, keepdims=True)
    return np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)


def quantile_places(q: np.ndarray, marginal) -> np.ndarray:
    """Where a level's quantiles sit in the overall marginal: its CDF, except that quantiles landing on one
    point mass share its stretch evenly, in order (so a level's share of that value lands within it)."""
    places = np.clip(marginal.cdf(q), 1e-6, 1 - 1e-6)
    for value, lo, hi in zip(marginal.mass_values, marginal.mass_lo, marginal.mass_hi):
        on = np.flatnonzero(np.abs(q - value) <= 1e-9 * max(1.0, abs(value)))
        if len(on):
            places[on] = lo + (hi - lo) * (np.arange(len(on)) + 0.5) / len(on)
    return np.maximum.accumulate(places)
