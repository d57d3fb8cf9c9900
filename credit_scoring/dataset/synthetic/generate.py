"""Writing a whole synthetic data set: the eight CSVs and the hidden truth, from a seed
(`python -m credit_scoring.dataset.synthetic`)."""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.special import expit, ndtri

from credit_scoring.common.io import atomic_directory
from credit_scoring.dataset.schema import SENTINEL_DAYS, table, tables
from credit_scoring.dataset.synthetic.application import app_model, application
from credit_scoring.dataset.synthetic.copula import AppModel, intercept_for
from credit_scoring.dataset.synthetic.marginals import TARGET_RATE, Clients, make_clients
from credit_scoring.dataset.synthetic.past_credits import (
    FULL_CLIENTS,
    bureau,
    history_behaviour,
    monthly_histories,
    pensioner_shift,
    previous,
)


# --------------------------------------------------------------------------------------------------------
# Putting it together.
# --------------------------------------------------------------------------------------------------------
def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Kaggle's CSV dialect: header, comma, floats as 202500.0, empty field for missing, quotes only
    where a value holds a comma. One thread keeps the bytes identical from run to run."""
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.register("frame", frame)
    con.execute(f"COPY (SELECT * FROM frame) TO '{path}' (HEADER, DELIMITER ',', NULL '')")
    con.close()


def generate(n_clients: int, n_test_clients: int, seed: int, out_dir: Path, truth_file: Path,
             log=print) -> dict[str, int]:
    """Write the 8 Kaggle CSVs into ``out_dir`` and ``SK_ID_CURR,PD`` into ``truth_file``.

    Deterministic from ``seed``. ``out_dir`` is replaced as a whole, once every file is complete (it is
    written beside it first), so it may hold nothing but the generator's files; on an error neither it nor
    ``truth_file`` is touched. Returns the rows written per table.
    """
    if n_clients < 100 or n_test_clients < 1:
        raise ValueError("need at least 100 train clients and 1 test client")
    out_dir, truth_file = Path(out_dir), Path(truth_file)
    _check_replaceable(out_dir, truth_file)
    seeds = np.random.SeedSequence(seed).spawn(6)
    rng_clients, rng_app, rng_bureau, rng_prev, rng_months, rng_target = (np.random.default_rng(s) for s in seeds)
    clients = make_clients(n_clients, n_test_clients, rng_clients)
    scale = len(clients) / FULL_CLIENTS
    rows: dict[str, int] = {}
    t0 = time.perf_counter()
    with atomic_directory(out_dir) as staged:

        def emit(name: str, frame: pd.DataFrame) -> None:
            write_csv(frame, staged / table(name).file)
            rows[name] = len(frame)
            log(f"  {name}: {len(frame):,} rows ({time.perf_counter() - t0:.0f} s)")

        truth = applications(clients, rng_app, rng_target, emit)
        bur, bal = bureau(clients, rng_bureau, scale)
        emit("bureau", bur)
        del bur
        emit("bureau_balance", bal)
        del bal
        prev = previous(clients, rng_prev)
        emit("previous_application", prev)
        for name, frame in monthly_histories(prev, clients, rng_months).items():
            emit(name, frame)
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    staged_truth = truth_file.with_name(f".{truth_file.name}.tmp")
    truth.to_csv(staged_truth, index=False)
    os.replace(staged_truth, truth_file)
    return rows


def _check_replaceable(out_dir: Path, truth_file: Path) -> None:
    """Refuse an ``out_dir`` holding anything but the generator's files: it is replaced as a whole."""
    if not out_dir.is_dir():
        return
    ours = {t.file for t in tables().values()} | ({truth_file.name} if truth_file.parent == out_dir else set())
    foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in ours)
    if foreign:
        raise ValueError(f"{out_dir} holds other files than the generator's ({', '.join(foreign[:5])}): "
                         "the generator replaces the whole folder, choose another one")


def applications(clients: Clients, rng_app: np.random.Generator, rng_target: np.random.Generator,
                 emit) -> pd.DataFrame:
    """application_train then application_test, handed to ``emit``; sets each client's wealth and the behaviour
    the history tables reflect. Returns the true default probabilities of all clients, by id."""
    model = app_model()
    logits, ids_all, train_scale, intercept = [], [], None, None
    for name, mask in (("application_train", ~clients.is_test), ("application_test", clients.is_test)):
        app, app_part = application(table(name), clients.history[mask], rng_app)
        ids = clients.ids[mask]
        head = {"SK_ID_CURR": ids}
        app_std, train_scale = _standardized(app, app_part, clients.history[mask], model, train_scale)
        # The standardized true logit: the application part keeps its designed share of the variance.
        logit = np.sqrt(1 - model.history_weight**2) * app_std + model.history_weight * clients.history[mask]
        logits.append(logit)
        ids_all.append(ids)
        income_rank = app["AMT_INCOME_TOTAL"].rank(method="first").to_numpy()
        clients.wealth[mask] = ndtri((income_rank - 0.5) / len(ids))
        clients.risk[mask] = history_behaviour(app_std, clients.history[mask])
        if name == "application_train":
            intercept = intercept_for(model.scale * logit, TARGET_RATE)
            head["TARGET"] = (rng_target.random(len(ids)) < expit(model.scale * logit + intercept)).astype(np.int64)
        emit(name, pd.concat([pd.DataFrame(head), app], axis=1))
    pd_true = expit(model.scale * np.concatenate(logits) + intercept)
    truth = pd.DataFrame({"SK_ID_CURR": np.concatenate(ids_all), "PD": np.round(pd_true, 10)})
    return truth.sort_values("SK_ID_CURR")


@dataclass(frozen=True)
class TrainScale:
    """What the train file fixes for both files: the centre and spread of the application part of the logit,
    and the pensioners' shift."""

    centre: float
    spread: float
    pensioner_shift: float


def _standardized(app: pd.DataFrame, app_part: np.ndarray, history: np.ndarray, model: AppModel,
                  train_scale: TrainScale | None) -> tuple[np.ndarray, TrainScale]:
    """The application part on the train file's scale (measured on this file when ``train_scale`` is None),
    pensioners shifted."""
    pensioner = (app["DAYS_EMPLOYED"] == SENTINEL_DAYS).to_numpy()
    if train_scale is None:
        centre, spread_ = app_part.mean(), app_part.std()
        shift = pensioner_shift((app_part - centre) / spread_, history, pensioner, model)
        train_scale = TrainScale(centre, spread_, shift)
    app_std = (app_part - train_scale.centre) / train_scale.spread
    return app_std + train_scale.pensioner_shift * pensioner, train_scale


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-clients", type=int, required=True, help="application_train clients")
    parser.add_argument("--n-test-clients", type=int, required=True, help="application_test clients")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="folder for the 8 CSVs")
    parser.add_argument("--truth", type=Path, required=True, help="CSV of true default probabilities")
    args = parser.parse_args(argv)
    rows = generate(args.n_clients, args.n_test_clients, args.seed, args.out, args.truth)
    print(f"wrote {sum(rows.values()):,} rows in 8 files to {args.out}")
