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

What keeps it fast (issue 28): the trials run at fixed learning rates larger than the served model's
(``tune.coarse_learning_rate`` for the coarse search, which only ranks algorithms and regions, and
``tune.refined_learning_rate``, closer to the final one, for the refined search), where a fit needs a fraction of
the rounds; the chosen configuration is fitted again at ``tune.final_learning_rate`` on the same folds
(`final_out_of_fold`), which gives the served model's rounds and the out-of-fold predictions its threshold is
chosen on; each fold's rows are binned by LightGBM once and reused by
every trial (`CrossValidation`); the algorithms after the first get fewer coarse trials
(``tune.challenger_coarse_trials``). Each finished trial and fold prints a progress line.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import roc_auc_score

from credit_scoring.common.io import write_json
from credit_scoring.common.progress import Progress
from credit_scoring.modeling.cost import best_threshold, cost_per_client
from credit_scoring.modeling.mlflow_figure import log_cost_figure
from credit_scoring.modeling.training import BinnedFold, OutOfFold, TrainingData, fit_early_stopped, stratified_folds

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
class CrossValidation:
    """Rows, their folds and what every trial on them shares: each fold's rows binned once by LightGBM
    (`BinnedFold`, built at the first LightGBM fit of the fold and kept), so a trial only boosts."""

    def __init__(self, data: TrainingData, folds, search: Search, label: str) -> None:
        self.data, self.folds, self.search, self.label = data, folds, search, label
        self._binned: dict[int, BinnedFold] = {}
        self.split_on: set[str] = set()  # features some LightGBM model fitted here split on

    def restricted(self, columns: list[str]) -> CrossValidation:
        """The same rows and folds (so costs stay paired) with only ``columns`` as features."""
        d = self.data
        part = TrainingData(d.X[columns], d.y, d.ids, d.X_holdout[columns], d.y_holdout, d.ids_holdout)
        return CrossValidation(part, self.folds, self.search, self.label)

    def fit_predict(self, algorithm: str, params: dict, i: int) -> tuple[np.ndarray, int]:
        """Fold ``i``: fitted with early stopping on its training rows, its probabilities on its scored rows
        and the rounds kept."""
        cfg, seed, settings = self.search.tune, self.search.seed, self.search.estimator
        train, valid = self.folds[i]
        X_valid = self.data.X.iloc[valid]
        if algorithm == "lightgbm":
            if i not in self._binned:
                self._binned[i] = BinnedFold(self.data.X.iloc[train], self.data.y[train], seed, settings)
            booster, rounds = self._binned[i].train(params, seed, cfg["max_rounds"], cfg["early_stopping_rounds"],
                                                    settings)
            self.split_on.update(np.asarray(self._binned[i].columns)[booster.feature_importance("split") > 0])
            return booster.predict(X_valid, num_iteration=rounds), rounds
        model, rounds = fit_early_stopped(algorithm, params, seed, cfg["max_rounds"], cfg["early_stopping_rounds"],
                                          settings, self.data.X.iloc[train], self.data.y[train])
        return model.predict_proba(X_valid)[:, 1], rounds

    def run(self, algorithm: str, params: dict, trial: optuna.Trial | None = None,
            fold_line: Callable[[str], object] | None = None) -> OutOfFold:
        """Out-of-fold predictions of one configuration; reports the running cost to ``trial`` after each fold
        (the median pruner may stop it there), and says each finished fold to ``fold_line``."""
        y, cost = self.data.y, self.search.cost
        proba, done = np.full(len(y), np.nan), np.zeros(len(y), dtype=bool)
        seconds, facts = [], []
        for i, (_, valid) in enumerate(self.folds):
            start = time.perf_counter()
            proba[valid], rounds = self.fit_predict(algorithm, params, i)
            seconds.append(time.perf_counter() - start)
            facts.append({"rounds": rounds})
            done[valid] = True
            if fold_line is not None:
                fold_line(f"{self.label} {algorithm} fold {i + 1}/{len(self.folds)}: {rounds} rounds, "
                              f"{seconds[-1]:.1f} s")
            if trial is None:
                continue
            running = best_threshold(y[done], proba[done], cost["fn"], cost["fp"])[1]
            trial.report(running, i)
            mlflow.log_metric("running_cv_cost_per_client", running, step=i + 1)  # the trial's run, folds done
            if trial.should_prune():
                mlflow.set_tags({"state": "pruned", "folds_finished": i + 1})
                log_cost_figure(f"{algorithm}, essai {trial.number} (élagué après {i + 1} plis)", y[done],
                                proba[done], cost)
                raise optuna.TrialPruned(f"running cost {running:.4f} after fold {i + 1}")
        return OutOfFold(proba, float(np.mean(seconds)), facts)


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


def search_params(trial: optuna.Trial, space: dict, cfg: dict, phase: str) -> dict:
    """A trial's hyper-parameters: those drawn from ``space``, at the fixed learning rate of its ``phase``
    (``tune.coarse_learning_rate`` or ``tune.refined_learning_rate``)."""
    return {**suggest(trial, space), "learning_rate": cfg[f"{phase}_learning_rate"]}


def scored(y: np.ndarray, oof: OutOfFold, folds, cost: dict) -> dict:
    """What a trial and the final model report of their out-of-fold predictions."""
    threshold, value = best_threshold(y, oof.proba, cost["fn"], cost["fp"])
    return {"cost": value, "auc": float(roc_auc_score(y, oof.proba)), "threshold": threshold,
            "rounds": int(np.mean([f["rounds"] for f in oof.fold_facts])),
            "fold_costs": fold_costs(y, oof.proba, folds, threshold, cost), "fit_seconds": oof.fit_seconds}


def objective_for(algorithm: str, space: dict, cv: CrossValidation, phase: str, progress: Progress | None = None):
    search = cv.search

    def objective(trial: optuna.Trial) -> float:
        params = search_params(trial, space, search.tune, phase)
        with mlflow.start_run(run_name=f"{phase}-{algorithm}-{trial.number}", nested=True):
            mlflow.set_tags({"stage": "tune", "phase": phase, "algorithm": algorithm, "trial": trial.number})
            mlflow.log_params(params)
            oof = cv.run(algorithm, params, trial, progress and progress.note)  # a pruned run keeps its folds'
            # running cost
            mlflow.set_tags({"state": "complete", "folds_finished": len(cv.folds)})
            log_cost_figure(f"{algorithm}, essai {trial.number} : coût hors pli selon le seuil", cv.data.y,
                            oof.proba, search.cost)
            s = scored(cv.data.y, oof, cv.folds, search.cost)
            for key in ("threshold", "rounds", "fold_costs", "fit_seconds"):
                trial.set_user_attr(key, s[key])
            trial.set_user_attr("cv_auc", s["auc"])
            trial.set_user_attr("features", len(cv.data.feature_names))
            mlflow.log_metrics({"cv_cost_per_client": s["cost"], "cv_auc": s["auc"], "cv_threshold": s["threshold"],
                                "cv_cost_fold_sd": float(np.std(s["fold_costs"], ddof=1)), "rounds": s["rounds"],
                                "fit_seconds": s["fit_seconds"]})
        return s["cost"]

    return objective


def trial_lines(progress: Progress | None, phase: str, algorithm: str):
    """An Optuna callback: one progress line per finished trial, pruned or complete."""

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if progress is None:
            return
        if trial.state == optuna.trial.TrialState.COMPLETE:
            how = f"cost/client {trial.value:.4f}, AUC {trial.user_attrs['cv_auc']:.4f}"
        else:
            how = trial.state.name.lower()
        best = f", best {study.best_value:.4f}" if any(t.state == optuna.trial.TrialState.COMPLETE
                                                        for t in study.trials) else ""
        progress.step(f"{phase} {algorithm} trial {trial.number} {how}{best}")

    return callback


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


def coarse_trials(cfg: dict, algorithm: str) -> int:
    """The first listed algorithm gets ``tune.coarse_trials``; each other ``tune.challenger_coarse_trials``: it only
    has to show whether it beats the first by more than the noise, not to be tuned for serving."""
    return cfg["coarse_trials"] if algorithm == cfg["algorithms"][0] else cfg["challenger_coarse_trials"]


def planned_steps(cfg: dict, n_folds: int) -> int:
    """The progress lines the tune stage plans: every trial, then the final model's folds (a pruned trial counts
    as one, like a finished one)."""
    return sum(coarse_trials(cfg, a) for a in cfg["algorithms"]) + cfg["n_trials"] + n_folds


def challenger_view(first: CrossValidation, cfg: dict) -> CrossValidation:
    """What the other algorithms' coarse trials see: with ``tune.challenger_split_features_only``, only the
    features some coarse LightGBM model of the first algorithm split on (the same rows and folds, so the choice
    rule's fold differences stay paired). A feature no such model ever used rarely decides a comparison, and the
    other algorithm's fits cost in proportion to the features it bins. Without LightGBM first, all features."""
    if not cfg["challenger_split_features_only"] or not first.split_on:
        return first
    kept = [c for c in first.data.feature_names if c in first.split_on]
    print(f"  the other algorithms' coarse trials see the {len(kept)} of {len(first.data.feature_names)} features "
          "the coarse LightGBM models split on", flush=True)
    return first.restricted(kept)


def coarse_search(data, folds, search: Search, progress: Progress | None = None
                  ) -> tuple[dict[str, optuna.trial.FrozenTrial], list[pd.DataFrame]]:
    """Each algorithm's wide space on a stratified share of the rows: its best trial, and every trial."""
    cfg, seed = search.tune, search.seed
    frames, best = [], {}
    coarse_data, coarse_folds = subsample(data, cfg["coarse_sample"], len(folds), seed)
    first = CrossValidation(coarse_data, coarse_folds, search, "coarse")
    for algorithm in cfg["algorithms"]:
        cv = challenger_view(first, cfg) if algorithm != cfg["algorithms"][0] else first
        study = fresh_study(cfg["storage"], f"{cfg['study_name']}-coarse-{algorithm}", seed, cfg)
        study.optimize(objective_for(algorithm, cfg["spaces"][algorithm], cv, "coarse", progress),
                       n_trials=coarse_trials(cfg, algorithm), callbacks=[trial_lines(progress, "coarse", algorithm)])
        frames.append(trials_frame(study, "coarse", algorithm))
        best[algorithm] = study.best_trial
        print(f"  coarse {algorithm:<24} best cost/client {study.best_value:.4f}", flush=True)
    return best, frames


def refined_search(cv: CrossValidation, chosen: str, start: optuna.trial.FrozenTrial,
                   progress: Progress | None = None) -> optuna.Study:
    """The ``chosen`` algorithm on all rows, in its space narrowed around the coarse winner ``start``, which
    is the first trial; the study records the algorithm and the space for workers that join it."""
    cfg, n_trials = cv.search.tune, cv.search.tune["n_trials"]
    space = refined_space(cfg["spaces"][chosen], start.params, cfg["refine_factor"], cfg["refine_width"])
    study = fresh_study(cfg["storage"], f"{cfg['study_name']}-refined", cv.search.seed, cfg)
    study.set_user_attr("algorithm", chosen)
    study.set_user_attr("space", space)
    study.enqueue_trial(start.params)
    study.optimize(objective_for(chosen, space, cv, "refined", progress), n_trials=n_trials,
                   callbacks=[max_trials(n_trials), trial_lines(progress, "refined", chosen)])
    return study


def run_search(data, folds, search: Search, progress: Progress | None = None
               ) -> tuple[dict, pd.DataFrame, CrossValidation]:
    """Coarse search per algorithm, then the refined search; returns the best configuration found at the search's
    learning rate, all trials, and the rows' cross-validation (its binned folds serve `final_out_of_fold`)."""
    coarse_best, frames = coarse_search(data, folds, search, progress)
    choice = choose_algorithm(coarse_best, list(search.tune["algorithms"]))
    chosen = choice["chosen"]
    cv = CrossValidation(data, folds, search, "refined")
    study = refined_search(cv, chosen, coarse_best[chosen], progress)
    frames.append(trials_frame(study, "refined", chosen))
    best = study.best_trial
    print(f"  refined {chosen:<23} best cost/client {best.value:.4f} after {len(study.trials)} trials", flush=True)
    result = {
        "algorithm": chosen,
        "params": best.params,
        "search_best": {"cv_cost_per_client": best.value, "cv_auc": best.user_attrs["cv_auc"],
                        "rounds": best.user_attrs["rounds"], "learning_rate": search.tune["refined_learning_rate"]},
        "coarse_best": {a: {"cv_cost_per_client": t.value, "cv_auc": t.user_attrs["cv_auc"],
                            "cv_cost_fold_sd": float(np.std(t.user_attrs["fold_costs"], ddof=1)), "params": t.params,
                            "features": t.user_attrs["features"]}
                        for a, t in coarse_best.items()},
        "choice": choice,
        "finished_trials": {f"{f['phase'].iloc[0]}_{f['algorithm'].iloc[0]}": int((f["state"] == "COMPLETE").sum())
                            for f in frames},
        "refined_trials": len(study.trials),
        "pruned_trials": int((pd.concat(frames)["state"] == "PRUNED").sum()),
    }
    return result, pd.concat(frames, ignore_index=True), cv


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
    progress = Progress("tune worker", search.tune["n_trials"])
    study.optimize(objective_for(algorithm, space, CrossValidation(data, folds, search, "refined"), "refined",
                                 progress),
                   callbacks=[max_trials(search.tune["n_trials"]), lambda _, trial: mine.append(trial.number),
                              trial_lines(progress, "refined", algorithm)])
    return len(mine)


# --------------------------------------------------------------------------------------------------------
# The final model, for the threshold stage.
# --------------------------------------------------------------------------------------------------------
def final_out_of_fold(cv: CrossValidation, result: dict, progress: Progress | None = None
                      ) -> tuple[dict, pd.DataFrame]:
    """The chosen configuration at ``tune.final_learning_rate``, fitted on the same folds with early stopping:
    its out-of-fold predictions (on which the threshold stage chooses the threshold) and its rounds (the mean of
    the folds', with which the threshold stage refits it on all rows). The search ranks configurations at a larger
    learning rate, where each fit takes a fraction of the rounds; a smaller one then gives the same trees' shape
    a finer sum. ``result`` comes back with the final parameters, rounds and out-of-fold figures."""
    params = {**result["params"], "learning_rate": cv.search.tune["final_learning_rate"]}
    oof = cv.run(result["algorithm"], params, fold_line=progress and progress.step)
    s = scored(cv.data.y, oof, cv.folds, cv.search.cost)
    final = {**result, "params": params, "rounds": s["rounds"], "cv_cost_per_client": s["cost"], "cv_auc": s["auc"],
             "cv_cost_fold_sd": float(np.std(s["fold_costs"], ddof=1))}
    return final, pd.DataFrame({"SK_ID_CURR": cv.data.ids, "TARGET": cv.data.y, "proba": oof.proba})


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
