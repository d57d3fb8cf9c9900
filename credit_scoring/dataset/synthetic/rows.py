"""A history table's row as one joint model of the measured facts: its categories together, its numbers
within them and with each other, its missing values together.

For a table of ``history_dependence`` (fidelity.json), ``row_model`` gathers:

- the categories in drawing order (the most connected first, after those the caller gives), each drawn given
  those before it through the measured pair tables (``conditionals.conditional_draw``; a category that goes
  missing has <missing> as a level, as the facts count it);
- a Gaussian copula over the numbers, from the measured rank correlations;
- for each number its categories' quantiles and shares missing by level (``conditionals.conditional_uniform``,
  and the same raking for the probability of being missing);
- a copula of the "is missing" flags, from the measured phi coefficients.

``draw_rows`` draws a table's rows from it, taking what the caller already decided (ids, categories driven by
a client's behaviour, numbers' latent scores carrying a signal) as given. The accounting rules of each table
(amounts that tie, days in order) are the caller's: they overwrite what must hold exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy.special import ndtr

from credit_scoring.dataset.schema import SENTINEL_DAYS, table
from credit_scoring.dataset.synthetic import fidelity
from credit_scoring.dataset.synthetic.conditionals import (
    MISSING,
    conditional_draw,
    conditional_uniform,
    pair_table,
    raked_share,
)
from credit_scoring.dataset.synthetic.marginals import categories

MAX_CATEGORIES = 4  # a number follows its strongest categories (by rank eta), at most this many
MAX_PARENTS = 3  # a category follows its strongest measured pairs among those drawn (by Cramér's V)


@dataclass(frozen=True)
class RowModel:
    """What ``draw_rows`` needs of one history table, from the facts alone."""

    table_name: str
    levels: dict[str, list[str]]  # each category's levels (<missing> first where it goes missing)
    shares: dict[str, np.ndarray]
    pairs: dict[frozenset, tuple[str, str, pd.DataFrame]]  # {a, b} -> (rows' column, columns' column, table)
    strength: dict[frozenset, float]  # Cramér's V of each measured pair
    numbers: tuple[str, ...]
    chol: np.ndarray  # the numbers' copula
    by_category: dict[str, tuple[tuple[str, dict], ...]]  # number -> its categories' facts by level
    missing_rate: dict[str, float]
    missing_chol: np.ndarray  # the numbers' "is missing" latent scores

    def order(self, given: set[str]) -> list[str]:
        """The categories to draw, the most connected to those already placed first."""
        placed, left = [c for c in self.levels if c in given], [c for c in self.levels if c not in given]
        out = []
        while left:
            best = max(left, key=lambda c: (sum(self.strength.get(frozenset((c, p)), 0.0) for p in placed + out),
                                            sum(self.strength.get(frozenset((c, o)), 0.0) for o in left)))
            out.append(best)
            left.remove(best)
        return out

    def table_for(self, parent: str, child: str) -> pd.DataFrame | None:
        """The joint table with the parent's levels as rows and the child's as columns."""
        found = self.pairs.get(frozenset((parent, child)))
        if found is None:
            return None
        rows, _, joint = found
        return joint if rows == parent else joint.T


def _spearman_to_normal(rho: float) -> float:
    return 2 * np.sin(np.pi * rho / 6)


@cache
def row_model(table_name: str) -> RowModel:
    """The joint model of one history table's row, from its measured facts."""
    tab = table(table_name)
    facts = fidelity.facts()["history_dependence"][table_name]
    skip = {c.name for c in tab.columns if c.name.startswith("SK_ID")}
    levels, shares = {}, {}
    for column in tab.columns:
        if column.kind != "category" or column.name in skip:
            continue
        cats = categories(column)
        present = np.array([column.value_shares[c] for c in cats], dtype=float)
        present /= present.sum()
        if column.missing_rate > 0:
            levels[column.name] = [MISSING, *cats]
            shares[column.name] = np.concatenate([[column.missing_rate], present * (1 - column.missing_rate)])
        else:
            levels[column.name], shares[column.name] = cats, present
    pairs, strength = {}, {}
    for pair, spec in facts.get("category_pairs_cramers_v_ge_0_1", {}).items():
        a, b = _pair(pair, levels)
        if a is None:
            continue
        joint = pair_table(spec["cells_ge_0_5pct"], dict(zip(levels[a], shares[a])), dict(zip(levels[b], shares[b])))
        pairs[frozenset((a, b))] = (a, b, joint)
        strength[frozenset((a, b))] = spec["cramers_v"]
    numbers = tuple(c.name for c in tab.columns if c.kind != "category" and c.name not in skip)
    index = {n: i for i, n in enumerate(numbers)}
    corr = np.eye(len(numbers))
    for pair, rho in facts.get("spearman_pairs_abs_ge_0_1", {}).items():
        a, _, b = pair.partition("|")
        if a in index and b in index:
            corr[index[a], index[b]] = corr[index[b], index[a]] = np.clip(_spearman_to_normal(rho), -0.995, 0.995)
    found: dict[str, list] = {}
    for pair, spec in facts.get("numeric_by_category_eta_ge_0_1", {}).items():
        category, _, number = pair.partition("->")
        if category in levels and number in index:
            found.setdefault(number, []).append((spec["eta_on_ranks"], category, spec["by_level"]))
    by_category = {number: tuple((c, lv) for _, c, lv in sorted(specs, key=lambda s: -s[0])[:MAX_CATEGORIES])
                   for number, specs in found.items()}
    rate = {n: tab.column(n).missing_rate for n in numbers}
    missing = np.eye(len(numbers))
    for pair, phi in facts.get("missing_together_phi_abs_ge_0_3", {}).items():
        a, _, b = pair.partition("|")
        if a in index and b in index and 0 < rate[a] < 1 and 0 < rate[b] < 1:
            missing[index[a], index[b]] = missing[index[b], index[a]] = np.clip(
                fidelity.tetrachoric(rate[a], rate[b], phi), -0.995, 0.995)
    return RowModel(table_name, levels, shares, pairs, strength, numbers,
                    np.linalg.cholesky(fidelity.nearest_correlation(corr)), by_category, rate,
                    np.linalg.cholesky(fidelity.nearest_correlation(missing)))


def _pair(pair: str, levels: dict[str, list[str]]) -> tuple[str | None, str | None]:
    a, _, b = pair.partition("|")
    return (a, b) if a in levels and b in levels else (None, None)


def draw_rows(table_name: str, n: int, rng: np.random.Generator, given: dict[str, object],
              category_u: dict[str, np.ndarray] | None = None,
              number_z: dict[str, tuple[float, np.ndarray]] | None = None,
              structural: tuple[str, ...] = ()) -> pd.DataFrame:
    """``n`` rows of a history table: the ``given`` columns as they are, the categories drawn together (a
    category's uniform from ``category_u`` where the caller ties it to something, else at random), the
    numbers from the copula (``number_z``: a number's latent score loads ``loading`` on a given standard
    normal ``factor``, a signal or a size, the rest its copula score), within their categories, missing
    together, except the ``structural`` ones (whose missing values the caller's rules decide). Columns come
    in the table's order."""
    model = row_model(table_name)
    tab = table(table_name)
    category_u, number_z = category_u or {}, number_z or {}
    out: dict[str, object] = {}
    for name, values in given.items():
        out[name] = np.asarray(values, dtype=object) if name in model.levels else values
    for name in model.order(set(given)):
        linked = [p for p in out if p in model.levels and model.table_for(p, name) is not None]
        strongest = sorted(linked, key=lambda p: -model.strength[frozenset((p, name))])[:MAX_PARENTS]
        parents = {p: out[p] for p in strongest}
        u = category_u.get(name)
        out[name] = conditional_draw(parents, {p: model.table_for(p, name) for p in parents}, model.levels[name],
                                     model.shares[name], rng.random(n) if u is None else u)
    z = rng.standard_normal((n, len(model.numbers))) @ model.chol.T
    gone = ndtr(rng.standard_normal((n, len(model.numbers))) @ model.missing_chol.T)
    for i, name in enumerate(model.numbers):
        if name in given:
            continue
        column = tab.column(name)
        m = fidelity.marginal(table_name, name, integer=column.kind == "integer")
        facts = {c: lv for c, lv in model.by_category.get(name, ()) if c in out}
        if name in number_z:
            loading, factor = number_z[name]
            z[:, i] = loading * factor + np.sqrt(1 - loading**2) * z[:, i]
        u = np.clip(ndtr(z[:, i]), 1e-9, 1 - 1e-9)
        if facts and SENTINEL_DAYS not in m.mass_values:  # the facts leave 365243 ("no date") out, as missing
            u = conditional_uniform(u, {c: out[c] for c in facts}, facts, m)
            p_missing = raked_share({c: out[c] for c in facts}, facts, "share_missing", model.missing_rate[name])
        else:
            p_missing = np.full(n, model.missing_rate[name])
        values = m(u)
        kept = name in structural or model.missing_rate[name] == 0  # never missing in the real file: never here
        out[name] = values if kept else np.where(gone[:, i] < p_missing, np.nan, values)
    for name in model.levels:
        values = np.asarray(out[name], dtype=object)
        out[name] = pd.Categorical(np.where(values == MISSING, None, values),
                                   categories=categories(tab.column(name)))
    return pd.DataFrame({c: out[c] for c in tab.column_names if c in out})
