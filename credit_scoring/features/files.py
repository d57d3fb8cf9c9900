"""The feature files: one feature row per client, for training and for application_test, and the leakage audit
they pass before they are written.

The features come from `credit_scoring.features`, the module the API serves with, so training and serving
cannot drift apart. The audit ranks every feature alone against the target and against the client id: a
feature that is an id or a copy of the target makes the build fail, because a model trained on it would look
excellent and be worthless.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from credit_scoring.common.paths import APPLICATION_TEST, APPLICATION_TRAIN, FEATURES_TEST, FEATURES_TRAIN, SPLIT
from credit_scoring.dataset.schema import HISTORY_TABLES
from credit_scoring.features.application import KEY, TARGET, application_features
from credit_scoring.features.history_engine import history_aggregates, join_history
from credit_scoring.features.history_specs import HISTORY_FLAGS


class LeakageError(RuntimeError):
    """A feature is an id or derived from the target."""


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties sharing the mean of their positions) of each column of a 2-D float
    array, missing values left NaN: pandas' ``rank(method="average")`` to the bit, several times faster.
    Each column's present values are factorized (hashing, then sorting only the distinct values: most
    features have few), and a value's rank is the mean position of its tie group: the group's last
    position less half its extra members, an exact half as pandas' sum of positions over the count."""
    ranked = np.full(values.shape[::-1], np.nan)
    for j, column in enumerate(np.ascontiguousarray(values.T)):
        known = ~np.isnan(column)
        codes, distinct = pd.factorize(column[known], sort=True)
        counts = np.bincount(codes, minlength=len(distinct)).astype(np.float64)
        ranked[j, known] = (np.cumsum(counts) - (counts - 1) / 2)[codes]
    return ranked.T


def ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks of each column two ways, from one sort: among the present values (missing stay
    NaN), and over all rows with the missing values tied below every present one."""
    present = average_ranks(values)
    missing = np.isnan(present).sum(axis=0)
    return present, np.where(np.isnan(present), (missing + 1) / 2, present + missing)


def _auc(ranked: np.ndarray, positive: np.ndarray, n1: np.ndarray, n0: np.ndarray) -> np.ndarray:
    """max(AUC, 1 - AUC) from ranks (Mann-Whitney); missing ranks are left out."""
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (np.nansum(ranked[positive], axis=0) - n1 * (n1 + 1) / 2) / (n1 * n0)
    return np.maximum(auc, 1 - auc)


def univariate_auc(
    present: np.ndarray, all_rows: np.ndarray, target: np.ndarray, min_class_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each column used alone as a score, from its `ranks`, two ways: on all rows (missing values as one
    lowest value: a leak can hide in which rows are missing), and on the rows where it is present (a leak
    can hide in a sparse column); the latter is NaN with fewer than `min_class_rows` rows of either class."""
    positive = target == 1
    on_all = _auc(all_rows, positive, positive.sum(), (~positive).sum())
    known = ~np.isnan(present)
    p1, p0 = known[positive].sum(axis=0), known[~positive].sum(axis=0)
    on_present = _auc(present, positive, p1, p0)
    return on_all, np.where((p1 >= min_class_rows) & (p0 >= min_class_rows), on_present, np.nan)


def centred_ranks(ids: np.ndarray) -> np.ndarray:
    """The client ids' average ranks less their mean: what `rank_correlation` compares each feature with."""
    id_ranks = average_ranks(ids.astype(np.float64)[:, None])[:, 0]
    return id_ranks - id_ranks.mean()


def rank_correlation(ranks: np.ndarray, id_centred: np.ndarray) -> np.ndarray:
    """|Spearman correlation| of each ranked column with the client id (its `centred_ranks`); 0 for constant
    columns."""
    centred = ranks - ranks.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0) * (id_centred**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.abs(id_centred @ centred) / norms
    return np.nan_to_num(corr, nan=0.0)


def audit_rows(fitting: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """Positions of the rows the audit measures on: every fitting row, or beyond `max_rows` a seeded random
    sample of them, in their order. Ranking is most of the audit's time and grows faster than the rows; on
    100,000 rows a univariate AUC is known to about 0.003, far finer than the flags' thresholds need
    (0.70, 0.99)."""
    rows = np.flatnonzero(fitting)
    if len(rows) <= max_rows:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=max_rows, replace=False))


def leakage_audit(train: pd.DataFrame, fitting: np.ndarray, cfg: dict, seed: int = 0) -> pd.DataFrame:
    """One row per feature of the training matrix (`train`: TARGET then features, indexed by SK_ID_CURR),
    measured on the rows where `fitting` is True so the holdout stays unseen (at most
    ``featurize.audit_max_rows`` of them, `audit_rows`, drawn with `seed`): univariate AUCs, rank correlation
    with the id, and the flags. Sorted by AUC on all rows, highest first. Columns are ranked a chunk at a
    time, on ``featurize.workers`` threads, so the audit never copies the whole matrix."""
    columns = [c for c in train.columns if c != TARGET]
    rows = audit_rows(fitting, int(cfg["audit_max_rows"]), seed)
    target = train[TARGET].to_numpy()[rows]
    id_centred = centred_ranks(train.index.to_numpy()[rows])
    step = int(cfg["audit_chunk_columns"])

    def measure(start: int) -> pd.DataFrame:
        names = columns[start : start + step]
        chunk = np.empty((len(names), len(target)))  # each column's audited rows side by side in memory
        for row, name in zip(chunk, names):
            row[:] = train[name].to_numpy(dtype=np.float64)[rows]
        chunk = chunk.T  # rows by columns, as the functions above read it
        present, all_rows = ranks(chunk)
        auc, auc_present = univariate_auc(present, all_rows, target, int(cfg["audit_min_class_rows"]))
        corr = rank_correlation(all_rows, id_centred)
        return pd.DataFrame({"auc": auc, "auc_present": auc_present, "id_rank_corr": corr})

    with ThreadPoolExecutor(max(1, int(cfg["workers"]))) as pool:
        audit = pd.concat(pool.map(measure, range(0, len(columns), step)), ignore_index=True)
    audit.insert(0, "feature", columns)
    best = audit[["auc", "auc_present"]].max(axis=1)
    named = audit["feature"].str.upper()
    audit["id_like"] = named.str.contains("SK_ID") | (audit["id_rank_corr"] >= cfg["id_rank_corr"])
    audit["target_derived"] = named.str.contains("TARGET") | (best >= cfg["leak_auc"])
    audit["suspicious"] = best > cfg["suspicious_auc"]
    return audit.sort_values("auc", ascending=False, kind="stable").reset_index(drop=True)


def raise_on_leaks(audit: pd.DataFrame, audit_file: Path) -> None:
    leaks = audit[audit["id_like"] | audit["target_derived"]]
    if len(leaks):
        detail = ", ".join(
            f"{r.feature} (auc={r.auc:.3f}, id_rank_corr={r.id_rank_corr:.3f})" for r in leaks.itertuples()
        )
        raise LeakageError(f"id-like or target-derived features, see {audit_file}: {detail}")


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """The index (SK_ID_CURR) then every column, from the frame's arrays without a pandas copy, plainly
    encoded: most features are continuous, so trying a dictionary for each costs more time than it saves
    space (at 60,000 clients the training file is written in 40 % less time and is 20 % larger)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = {frame.index.name: frame.index.to_numpy(), **{c: frame[c].to_numpy() for c in frame.columns}}
    pq.write_table(pa.table(columns), path, use_dictionary=False)


def history_share(frames: list[pd.DataFrame]) -> dict[str, float]:
    """Share of clients with at least one row in each history table."""
    flags = pd.concat([f[list(HISTORY_FLAGS.values())] for f in frames])
    return {t: round(float(flags[flag].mean()), 4) for t, flag in HISTORY_FLAGS.items()}


def featurize(prepared: Path, out: Path, audit_file: Path, cfg: dict, seed: int = 0) -> dict:
    """Compute, audit and write the train and test feature files from the tables in ``prepared`` into ``out``;
    ``cfg`` is params.yaml's ``featurize`` section, ``seed`` draws the audit's rows at large volumes. Returns
    the stage metrics.
    When the audit finds a leak no feature file is left in `out`, not even one from an earlier run."""
    start = time.perf_counter()
    for stale in (FEATURES_TRAIN.name, FEATURES_TEST.name):
        (out / stale).unlink(missing_ok=True)
    history = {name: prepared / f"{name}.parquet" for name in HISTORY_TABLES}
    workers = max(1, int(cfg["workers"]))
    with ThreadPoolExecutor(workers + 1) as pool:
        # DuckDB aggregates the history (releasing the GIL) while pandas computes the application features.
        aggregating = pool.submit(history_aggregates, history, cfg["duckdb_memory_limit"], workers)
        applications = {name: pd.read_parquet(prepared / name)
                        for name in (APPLICATION_TEST.name, APPLICATION_TRAIN.name)}
        app_features = {name: application_features(frame) for name, frame in applications.items()}
        aggregated = aggregating.result()
        test, train = (
            join_history(app_features[name], applications[name], aggregated, keep)
            for name, keep in ((APPLICATION_TEST.name, ()), (APPLICATION_TRAIN.name, (TARGET,)))
        )
        del aggregated, applications, app_features
        split = pd.read_parquet(prepared / SPLIT.name, columns=[KEY, "holdout"]).set_index(KEY)
        fitting = ~split["holdout"].reindex(train.index, fill_value=True).to_numpy(dtype=bool)
        # The files are written beside their final names while the audit runs, and take them only if it passes.
        staged = {out / name: out / f".{name}.tmp" for name in (FEATURES_TRAIN.name, FEATURES_TEST.name)}
        writing = [pool.submit(write_parquet, frame, staged[out / name])
                   for frame, name in ((train, FEATURES_TRAIN.name), (test, FEATURES_TEST.name))]
        try:
            audit = leakage_audit(train, fitting, cfg, seed)
            audit_file.parent.mkdir(parents=True, exist_ok=True)
            audit.to_csv(audit_file, index=False)
            raise_on_leaks(audit, audit_file)
            for done in writing:
                done.result()
        except BaseException:
            for done in writing:
                done.cancel()
            wait(writing)
            for temporary in staged.values():
                temporary.unlink(missing_ok=True)
            raise
    for final, temporary in staged.items():
        temporary.replace(final)
    return {
        "clients_train": len(train),
        "clients_test": len(test),
        "features": len(test.columns),
        "history_share": history_share([train, test]),
        "suspicious_features": int(audit["suspicious"].sum()),
        "seconds": round(time.perf_counter() - start, 1),
    }
