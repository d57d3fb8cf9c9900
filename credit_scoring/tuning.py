"""Optuna over LightGBM and a second non-linear model, judged on the business cost (the tune stage).

First a coarse search for each algorithm over the wide spaces of params.yaml (on a stratified share of the
rows, ``tune.coarse_sample``, to keep the stage fast), then a refined search on all rows, around the best
coarse point, for the algorithm that won (the first listed one when the other's lead is within noise:
`choose_algorithm`). Every trial runs the same stratified K-fold as the baselines, with
early stopping inside each fold on rows the fold never scores; its objective is the cost per client at the
best threshold on the out-of-fold predictions (AUC logged for control), and a median pruner stops a trial
after any fold whose running cost is hopeless. Studies live in ``tune.storage`` (SQLite by default); with a
PostgreSQL URL other machines join the refined search as workers (`run_worker`). Every trial is a nested
MLflow run.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import roc_auc_score

from credit_scoring.cost import best_threshold, cost_per_client
from credit_scoring.io import write_json
from credit_scoring.modeling import TrainingData, fit_early_stopped, out_of_fold, stratified_folds
from credit_scoring.run_figures import log_cost_figure

BEST_FILE = "best.json"  # in models/tuned: the chosen algorithm, its parameters and rounds
OOF_FILE = "oof.parquet"  # in models/tuned: its out-of-fold predictions, for the threshold stage


@dataclass(frozen=True)
class Search:
    """What every trial shares: params.yaml's ``tune`` and ``estimator`` sections, the cost and the seed."""

    tune: dict
    estimator: dict
    cost: dict
    seed: int

    @classmethod
    def from_params(cls, params: dict) -> Search:
        return cls(params["tune"], params["estimator"], params["cost"], params["seed"])


# --------------------------------------------------------------------------------------------------------
# Search spaces: params.yaml gives, per hyper-parameter, [kind, low, high] with kind float | log | int | int_log.
# --------------------------------------------------------------------------------------------------------
def suggest(trial: optuna.Trial, space: dict) -> dict:
    params = {}
    for name, (kind, low, high) in space.items():
        if kind in ("int", "int_log"):
            params[name] = trial.suggest_int(name, int(low), int(high), log=kind == "int_log")
        else:
            params[name] = trial.suggest_float(name, float(low), float(high), log=kind == "log")
    return params


def refined_space(space: dict, best: dict, factor: float, width: float) -> dict:
    """The wide space narrowed around ``best``: a factor either side on log scales, a share of the range on
    linear ones, never outside the wide bounds."""
    out = {}
    for name, (kind, low, high) in space.items():
        value = best[name]
        if kind in ("log", "int_log"):
            lo, hi = max(low, value / factor), min(high, value * factor)
        else:
            span = (high - low) * width
            lo, hi = max(low, value - span), min(high, value + span)
        if kind.startswith("int"):
            lo, hi = math.floor(lo), math.ceil(hi)
        out[name] = [kind, lo, hi if hi > lo else lo + (1 if kind.startswith("int") else 1e-9)]
    return out


# --------------------------------------------------------------------------------------------------------
# The objective.
# --------------------------------------------------------------------------------------------------------
def cross_validate(algorithm: str, params: dict, data, folds, search: Search, trial=None):
    """Out-of-fold predictions of one configuration; reports the running cost to ``trial`` for pruning."""
    cost = search.cost

    def fit_predict(X_train, y_train, X_valid):
        model, rounds = fit_early_stopped(algorithm, params, search.seed, search.tune["max_rounds"],
                                          search.tune["early_stopping_rounds"], search.estimator, X_train, y_train)
        return model.predict_proba(X_valid)[:, 1], {"rounds": rounds}

    def after_fold(i, proba, done):
        if trial is None:
            return
        running = best_threshold(data.y[done], proba[done], cost["fn"], cost["fp"])[1]
        trial.report(running, i)
        mlflow.log_metric("running_cv_cost_per_client", running, step=i + 1)  # the trial's run, folds done so far
        if trial.should_prune():
            mlflow.set_tags({"state": "pruned", "folds_finished": i + 1})
            log_cost_figure(f"{algorithm}, essai {trial.number} (élagué après {i + 1} plis)", data.y[done],
                            proba[done], cost)
            raise optuna.TrialPruned(f"running cost {running:.4f} after fold {i + 1}")

    return out_of_fold(fit_predict, data.X, data.y, folds, after_fold)


def fold_costs(y: np.ndarray, proba: np.ndarray, folds, threshold: float, cost: dict) -> list[float]:
    """Cost per client of each fold's out-of-fold predictions at the trial's one threshold: the spread
    behind the out-of-fold figure, and the pairs the algorithm choice compares (all trials share the folds)."""
    return [cost_per_client(y[valid], proba[valid], threshold, cost["fn"], cost["fp"]) for _, valid in folds]


def choose_algorithm(coarse_best: dict[str, optuna.trial.FrozenTrial], algorithms: list[str]) -> dict:
    """The algorithm the refined search tunes: the lowest coarse out-of-fold cost, unless its lead over the
    first algorithm listed in ``tune.algorithms`` is within noise (smaller than the standard error of the
    paired fold differences), in which case the first listed is kept. The folds are the same for every
    coarse trial, so the differences are paired."""
    preferred = algorithms[0]
    lowest = min(algorithms, key=lambda a: coarse_best[a].value)
    gaps = np.subtract(coarse_best[preferred].user_attrs["fold_costs"], coarse_best[lowest].user_attrs["fold_costs"])
    gap = float(coarse_best[preferred].value - coarse_best[lowest].value)
    se = float(np.std(gaps, ddof=1) / np.sqrt(len(gaps))) if lowest != preferred else 0.0
    within_noise = lowest != preferred and gap < se
    return {"chosen": preferred if within_noise else lowest, "lowest_cost": lowest, "preferred": preferred,
            "gap": gap, "gap_se": se, "within_noise": bool(within_noise)}


def objective_for(algorithm: str, space: dict, data, folds, search: Search, phase: str):
    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, space)
        with mlflow.start_run(run_name=f"{phase}-{algorithm}-{trial.number}", nested=True):
            mlflow.set_tags({"stage": "tune", "phase": phase, "algorithm": algorithm, "trial": trial.number})
            mlflow.log_params(params)
            oof = cross_validate(algorithm, params, data, folds, search, trial)  # a pruned run keeps its folds'
            mlflow.set_tags({"state": "complete", "folds_finished": len(folds)})
            log_cost_figure(f"{algorithm}, essai {trial.number} : coût hors pli selon le seuil", data.y, oof.proba,
                            search.cost)
            threshold, value = best_threshold(data.y, oof.proba, search.cost["fn"], search.cost["fp"])
            auc = float(roc_auc_score(data.y, oof.proba))
            rounds = int(np.mean([f["rounds"] for f in oof.fold_facts]))
            spread = fold_costs(data.y, oof.proba, folds, threshold, search.cost)
            trial.set_user_attr("cv_auc", auc)
            trial.set_user_attr("fold_costs", spread)
            trial.set_user_attr("threshold", threshold)
            trial.set_user_attr("rounds", rounds)
            trial.set_user_attr("fit_seconds", oof.fit_seconds)
            mlflow.log_metrics({"cv_cost_per_client": value, "cv_auc": auc, "cv_threshold": threshold,
                                "cv_cost_fold_sd": float(np.std(spread, ddof=1)), "rounds": rounds,
                                "fit_seconds": oof.fit_seconds})
        return value

    return objective


# --------------------------------------------------------------------------------------------------------
# Studies.
# --------------------------------------------------------------------------------------------------------
def fresh_study(storage: str, name: str, seed: int, cfg: dict) -> optuna.Study:
    """A new study of this name: results depend on params.yaml only, never on what an older run left."""
    try:
        optuna.delete_study(study_name=name, storage=storage)
    except KeyError:
        pass
    return optuna.create_study(
        study_name=name, storage=storage, direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=cfg["tpe_startup_trials"]),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=cfg["pruner_startup_trials"], n_warmup_steps=0),
    )


def trials_frame(study: optuna.Study, phase: str, algorithm: str) -> pd.DataFrame:
    frame = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs", "duration"))
    frame.insert(0, "phase", phase)
    frame.insert(1, "algorithm", algorithm)
    frame["duration"] = frame["duration"].dt.total_seconds()
    return frame


def coarse_search(data, folds, search: Search) -> tuple[dict[str, optuna.trial.FrozenTrial], list[pd.DataFrame]]:
    """Each algorithm's wide space on a stratified share of the rows: its best trial, and every trial."""
    cfg, seed = search.tune, search.seed
    frames, best = [], {}
    coarse_data, coarse_folds = subsample(data, cfg["coarse_sample"], len(folds), seed)
    for algorithm in cfg["algorithms"]:
        study = fresh_study(cfg["storage"], f"{cfg['study_name']}-coarse-{algorithm}", seed, cfg)
        study.optimize(objective_for(algorithm, cfg["spaces"][algorithm], coarse_data, coarse_folds, search, "coarse"),
                       n_trials=cfg["coarse_trials"])
        frames.append(trials_frame(study, "coarse", algorithm))
        best[algorithm] = study.best_trial
        print(f"  coarse {algorithm:<24} best cost/client {study.best_value:.4f}")
    return best, frames


def refined_search(data, folds, search: Search, chosen: str, start: optuna.trial.FrozenTrial) -> optuna.Study:
    """The ``chosen`` algorithm on all rows, in its space narrowed around the coarse winner ``start``, which
    is the first trial; the study records the algorithm and the space for workers that join it."""
    cfg, n_trials = search.tune, search.tune["n_trials"]
    space = refined_space(cfg["spaces"][chosen], start.params, cfg["refine_factor"], cfg["refine_width"])
    study = fresh_study(cfg["storage"], f"{cfg['study_name']}-refined", search.seed, cfg)
    study.set_user_attr("algorithm", chosen)
    study.set_user_attr("space", space)
    study.enqueue_trial(start.params)
    study.optimize(objective_for(chosen, space, data, folds, search, "refined"),
                   n_trials=n_trials, callbacks=[max_trials(n_trials)])
    return study


def run_search(data, folds, search: Search) -> tuple[dict, pd.DataFrame]:
    """Coarse search per algorithm, then the refined search; returns the best configuration and all trials."""
    coarse_best, frames = coarse_search(data, folds, search)
    choice = choose_algorithm(coarse_best, list(search.tune["algorithms"]))
    chosen = choice["chosen"]
    study = refined_search(data, folds, search, chosen, coarse_best[chosen])
    frames.append(trials_frame(study, "refined", chosen))
    best = study.best_trial
    print(f"  refined {chosen:<23} best cost/client {best.value:.4f} after {len(study.trials)} trials")
    result = {
        "algorithm": chosen,
        "params": best.params,
        "rounds": best.user_attrs["rounds"],
        "cv_cost_per_client": best.value,
        "cv_auc": best.user_attrs["cv_auc"],
        "cv_cost_fold_sd": float(np.std(best.user_attrs["fold_costs"], ddof=1)),
        "coarse_best": {a: {"cv_cost_per_client": t.value, "cv_auc": t.user_attrs["cv_auc"],
                            "cv_cost_fold_sd": float(np.std(t.user_attrs["fold_costs"], ddof=1)), "params": t.params}
                        for a, t in coarse_best.items()},
        "choice": choice,
        "finished_trials": {f"{f['phase'].iloc[0]}_{f['algorithm'].iloc[0]}": int((f["state"] == "COMPLETE").sum())
                            for f in frames},
        "refined_trials": len(study.trials),
        "pruned_trials": int((pd.concat(frames)["state"] == "PRUNED").sum()),
    }
    return result, pd.concat(frames, ignore_index=True)


def subsample(data, share: float, n_folds: int, seed: int):
    """A stratified share of the training rows, with its own folds: the coarse search only has to rank
    algorithms and regions of the space, which it can do on fewer rows in a fraction of the time."""
    if share >= 1:
        return data, stratified_folds(data.y, n_folds, seed)
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(data.y)), train_size=share, stratify=data.y, random_state=seed)
    keep = np.sort(keep)
    part = TrainingData(data.X.iloc[keep].reset_index(drop=True), data.y[keep], data.ids[keep],
                        data.X_holdout, data.y_holdout, data.ids_holdout)
    return part, stratified_folds(part.y, n_folds, seed)


def max_trials(n: int):
    """Stop once the study holds ``n`` finished trials, whichever worker ran them."""
    return optuna.study.MaxTrialsCallback(
        n, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    )


def wait_for_refined_study(cfg: dict, wait_seconds: float) -> optuna.Study:
    """The refined study another machine created, once it records its algorithm; gives up after ``wait_seconds``."""
    name = f"{cfg['study_name']}-refined"
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            study = optuna.load_study(study_name=name, storage=cfg["storage"],
                                      sampler=optuna.samplers.TPESampler(),
                                      pruner=optuna.pruners.MedianPruner(n_startup_trials=cfg["pruner_startup_trials"]))
            if "algorithm" in study.user_attrs:
                return study
        except KeyError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"no study {name!r} in {cfg['storage']} after {wait_seconds:.0f} s")
        time.sleep(2)


def run_worker(data, folds, search: Search, wait_seconds: float) -> int:
    """Join the refined study another machine created, until it holds ``tune.n_trials`` trials."""
    study = wait_for_refined_study(search.tune, wait_seconds)
    algorithm, space = study.user_attrs["algorithm"], study.user_attrs["space"]
    mine = []  # trials finished by this process (the study also holds the other workers')
    study.optimize(objective_for(algorithm, space, data, folds, search, "refined"),
                   callbacks=[max_trials(search.tune["n_trials"]), lambda _, trial: mine.append(trial.number)])
    return len(mine)


# --------------------------------------------------------------------------------------------------------
# The choice, for the threshold stage.
# --------------------------------------------------------------------------------------------------------
def best_out_of_fold(data, folds, result: dict, search: Search) -> pd.DataFrame:
    """The chosen configuration's out-of-fold predictions, recomputed (deterministic) for the threshold stage."""
    oof = cross_validate(result["algorithm"], result["params"], data, folds, search)
    return pd.DataFrame({"SK_ID_CURR": data.ids, "TARGET": data.y, "proba": oof.proba})


def against_baseline(result: dict, baseline_metrics: Path) -> dict:
    """``result`` with the best baseline's cross-validated cost and whether the tuned model beats it."""
    baseline = json.loads(baseline_metrics.read_text())["best_cv_cost_per_client"]
    return {**result, "baseline_best_cv_cost_per_client": baseline,
            "beats_baseline": bool(result["cv_cost_per_client"] < baseline)}


def write_tuned(directory: Path, result: dict, oof: pd.DataFrame) -> None:
    """The choice (algorithm, parameters, rounds) and its out-of-fold predictions."""
    directory.mkdir(parents=True, exist_ok=True)
    oof.to_parquet(directory / OOF_FILE, index=False)
    write_json(directory / BEST_FILE, {k: result[k] for k in ("algorithm", "params", "rounds")})


def read_tuned(directory: Path) -> tuple[dict, pd.DataFrame]:
    """What `write_tuned` wrote: the choice and its out-of-fold predictions."""
    return json.loads((directory / BEST_FILE).read_text()), pd.read_parquet(directory / OOF_FILE)
