"""The model card: the champion's technical documentation in the outline of the EU AI Act's Annex IV (credit
scoring of natural persons is high-risk, Annex III 5(b); art. 11 asks for this documentation), rendered from the
files the stages wrote, like the note, and logged to MLflow beside the model it describes.

- `model_card_inputs`: a plain dict of every value the card quotes, read from reports/, params.yaml, git and the
  installed packages; no number is typed by hand. Values a stage may not have written yet (some intervals) are
  None, and the card says "not computed".
- `render_model_card`: the Markdown, a pure function of that dict through the Jinja2 template `model_card.md.j2`.
- `write_model_card`, `log_model_card`: the file, and the same file as an artifact of the MLflow run that
  registered the champion, with a tag on the model version pointing at it.
"""

from __future__ import annotations

import csv
import json
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urlparse

import jinja2

from credit_scoring.common import paths
from credit_scoring.common.params import load_params
from credit_scoring.common.tracking import CHAMPION_ALIAS, REGISTERED_MODEL, tracking_uri

MODEL_CARD = paths.REPORTS / "model_card.md"
TEMPLATE = "model_card.md.j2"
NOT_COMPUTED = "not computed"
PACKAGES = ("lightgbm", "scikit-learn", "interpret", "shap", "optuna", "mlflow", "evidently", "pandas", "numpy")
TAG = "model_card"  # model version tag holding the card's artifact URI


# ---- reading: every value the card quotes, from the files the stages wrote ----

def _json(root: Path, stage: str) -> dict:
    return json.loads((root / paths.metrics(stage)).read_text())


def _table(root: Path, name: str) -> list[dict] | None:
    """A report table as rows of numbers where the cells are numbers; None when the stage did not write it."""
    path = root / paths.table(name)
    if not path.exists():
        return None
    with open(path, newline="") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(text, text)


def git_commit(root: Path) -> str | None:
    """The checked-out commit, or None outside a git checkout (or without git): the card still renders."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10,
                              check=True)
    except (OSError, subprocess.SubprocessError):  # no git, or not a checkout (CalledProcessError)
        return None
    return done.stdout.strip()


def package_versions() -> dict[str, str]:
    """Versions of the libraries that fit, explain and track the model, as installed where the card is rendered."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _calibration_gap(root: Path) -> float | None:
    """Largest gap between mean predicted probability and observed default rate over the holdout's bins."""
    path = root / paths.plot("calibration")
    if not path.exists():
        return None
    with open(path, newline="") as f:
        return max(abs(float(r["probabilite_predite"]) - float(r["taux_de_defaut_observe"])) for r in csv.DictReader(f))


def _drift(drift: dict) -> dict:
    return {"columns": drift["all_columns"]["columns"], "drifted": drift["all_columns"]["drifted_columns"],
            "psi_drifted": drift["all_columns"]["psi_drifted_columns"],
            "drifted_features": sorted(k for k, v in drift.get("features", {}).items() if v.get("drifted")),
            "watched": drift["watched_features"], "score": drift.get("score"), "settings": drift["settings"]}


def _comparison(intervals: dict, explain: dict) -> dict:
    """The champion beside the best baseline and the EBM on the same holdout, each at its own threshold, with the
    paired intervals the threshold and explain stages write when they do (None where they did not)."""
    baseline, difference = intervals.get("baseline") or {}, intervals.get("champion_minus_baseline") or {}
    ebm = explain.get("ebm_intervals") or {}
    return {
        "baseline": {"model": baseline.get("model"), "threshold": baseline.get("threshold"),
                     "auc": baseline.get("holdout_auc"), "auc_interval": baseline.get("holdout_auc_interval"),
                     "cost": baseline.get("holdout_cost_per_client"),
                     "cost_interval": baseline.get("holdout_cost_interval")},
        "champion_minus_baseline": {"auc": difference.get("holdout_auc"),
                                    "cost": difference.get("holdout_cost_per_client")},
        "ebm": {"threshold": explain.get("ebm_threshold"), "auc": explain.get("ebm_holdout_auc"),
                "auc_interval": ebm.get("holdout_auc"), "cost": explain.get("ebm_holdout_cost_per_client"),
                "cost_interval": ebm.get("holdout_cost_per_client")},
        "ebm_minus_champion": {"auc": ebm.get("ebm_minus_champion_auc"), "cost": ebm.get("ebm_minus_champion_cost")},
        "fold_spread": intervals.get("fold_spread") or {},
    }


def _performance(threshold: dict, explain: dict, root: Path) -> dict:
    intervals = threshold.get("intervals", {})
    oracle = ({"auc": threshold["oracle_holdout_auc"], "cost": threshold["oracle_holdout_cost_per_client"],
               "threshold": threshold.get("oracle_threshold")} if "oracle_holdout_auc" in threshold else None)
    return {key: threshold[f"holdout_{key}"] for key in ("auc", "cost_per_client", "recall", "precision", "f1",
                                                        "accuracy", "brier")} | {
        "level": intervals.get("level"), "resamples": intervals.get("resamples"),
        "auc_interval": intervals.get("holdout_auc"), "cost_interval": intervals.get("holdout_cost_per_client"),
        "brier_prior": intervals.get("brier_prior"), "comparison": _comparison(intervals, explain),
        "oracle": oracle, "clients": threshold["holdout_clients"], "warnings": threshold.get("warnings", []),
        "cost_ratios": _table(root, "cost_ratio_sensitivity"), "calibration_gap": _calibration_gap(root)}


def _method(params: dict, baseline: dict, tune: dict, threshold: dict) -> dict:
    return {"folds": params["cv"]["folds"], "baselines": baseline["runs"],
            "best_baseline": {"model": baseline["best_model"], "strategy": baseline["best_strategy"],
                              "cost": baseline["best_cv_cost_per_client"], "auc": baseline["best_cv_auc"]},
            "algorithms": params["tune"]["algorithms"], "coarse_best": tune.get("coarse_best", {}),
            "coarse_trials": params["tune"]["coarse_trials"], "coarse_sample": params["tune"]["coarse_sample"],
            "challenger_coarse_trials": params["tune"]["challenger_coarse_trials"],
            "coarse_learning_rate": params["tune"]["coarse_learning_rate"],
            "refined_learning_rate": params["tune"]["refined_learning_rate"],
            "refined_trials": tune["refined_trials"], "pruned_trials": tune["pruned_trials"],
            "tpe_startup_trials": params["tune"]["tpe_startup_trials"], "cv_cost": tune["cv_cost_per_client"],
            "cv_auc": tune["cv_auc"], "f1_threshold": threshold["f1_threshold"],
            "oof_cost_at_0_5": threshold["oof_cost_at_0_5"],
            "oof_cost_at_f1_threshold": threshold["oof_cost_at_f1_threshold"],
            "oof_cost_at_threshold": threshold["oof_cost_at_threshold"]}


def _features(params: dict, featurize: dict, explain: dict, root: Path) -> dict:
    variants = {row["id"]: row for row in _table(root, "model_variants") or []}
    return {"built": featurize["features"], "used": variants.get("champion", {}).get("variables"),
            "excluded": params["features"]["exclude_protected"], "top": explain["top_features"],
            "monotone": params["estimator"]["monotone"],
            "reasons_max": params["explain"]["reasons"]["max"]}


def model_card_inputs(root: Path = Path("."), today: str | None = None) -> dict:
    """Every value the card quotes, read from ``root``'s reports/ and params.yaml (the project root by default)."""
    root = Path(root)
    params = load_params(root / paths.PARAMS)
    prepare, threshold, explain = _json(root, "prepare"), _json(root, "threshold"), _json(root, "explain")
    fairness, tune = _json(root, "fairness"), _json(root, "tune")
    return {
        "generated": today or datetime.now(UTC).date().isoformat(),
        "model": {"name": REGISTERED_MODEL, "alias": CHAMPION_ALIAS, "version": explain.get("model_version"),
                  "algorithm": tune["algorithm"], "params": tune["params"], "rounds": tune.get("rounds")},
        "decision": {"cost_fn": params["cost"]["fn"], "cost_fp": params["cost"]["fp"],
                     "threshold": threshold["threshold"]},
        "data": {"source": prepare["source"], "synthetic": prepare["source"] == "synthetic",
                 "rows": prepare["rows"], "target_rate": prepare["target_rate"],
                 "holdout_clients": prepare["holdout_clients"], "holdout_size": params["split"]["holdout_size"],
                 "history_coverage": prepare["history_coverage"], "oracle_auc": prepare.get("oracle_auc")},
        "drift": _drift(_json(root, "drift")),
        "features": _features(params, _json(root, "featurize"), explain, root),
        "method": _method(params, _json(root, "baseline"), tune, threshold),
        "performance": _performance(threshold, explain, root),
        "fairness": {"overall": fairness["overall"], "groups": _table(root, "fairness") or [],
                     "attributes": {k: v for k, v in fairness.items() if isinstance(v, dict) and "groups" in v},
                     "four_fifths": fairness["four_fifths"], "min_group_size": fairness["min_group_size"],
                     "variants": threshold.get("variants", {})},
        "monitor": params["monitor"] | {"watched_features": params["drift"]["watched_features"]},
        "versions": {"git_commit": git_commit(root), "packages": package_versions()},
    }


# ---- rendering: a pure function of the inputs ----

def _defined(x):
    """A missing value fails a filter as it fails plain printing: StrictUndefined raises when made a string."""
    if isinstance(x, jinja2.Undefined):
        str(x)
    return x


def _decimal(x: float, decimals: int) -> str:
    """``x`` rounded to ``decimals``, a value that rounds to zero printed without its sign (not "-0.000")."""
    text = f"{x:.{decimals}f}"
    return text.removeprefix("-") if float(text) == 0 else text


def _fixed(x, decimals: int = 3) -> str:
    return NOT_COMPUTED if _defined(x) is None else _decimal(x, decimals)


def _percent(x, decimals: int = 1) -> str:
    return NOT_COMPUTED if _defined(x) is None else f"{100 * x:.{decimals}f} %"


def _points(x, decimals: int = 1) -> str:
    """A difference of two rates, in percentage points."""
    return NOT_COMPUTED if _defined(x) is None else f"{100 * x:.{decimals}f} points"


def _count(n) -> str:
    return NOT_COMPUTED if _defined(n) is None else f"{n:,}"


def _interval(pair, decimals: int = 3) -> str:
    """``[lo, hi]`` as the card prints it, or "not computed" when the stage did not write it."""
    if not _defined(pair):
        return NOT_COMPUTED
    low, high = pair
    return f"[{_decimal(low, decimals)}, {_decimal(high, decimals)}]"


def _spread(summary) -> str:
    """A measure's spread over the CV folds: mean ± standard deviation (min to max)."""
    if not _defined(summary):
        return NOT_COMPUTED
    return f"{summary['mean']:.3f} ± {summary['sd']:.3f} ({summary['min']:.3f} to {summary['max']:.3f})"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.filters.update(fixed=_fixed, percent=_percent, points=_points, count=_count, interval=_interval,
                       spread=_spread)
    env.globals["NOT_COMPUTED"] = NOT_COMPUTED
    return env


def render_model_card(inputs: dict) -> str:
    """The card's Markdown from ``model_card_inputs``' dict; a key the template needs and the dict lacks is an
    error (StrictUndefined), so the card never prints an empty value silently."""
    return _environment().get_template(TEMPLATE).render(**inputs)


# ---- writing and logging ----

def write_model_card(path: Path = MODEL_CARD, inputs: dict | None = None) -> Path:
    """Render the card (from the project's files unless ``inputs`` are given) and write it at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_model_card(inputs if inputs is not None else model_card_inputs()))
    return path


def _store_missing(uri: str) -> bool:
    """A SQLite store that does not exist: asking it anything would create an empty one."""
    parsed = urlparse(uri)
    return parsed.scheme == "sqlite" and not Path(parsed.path.removeprefix("/")).exists()


def log_model_card(path: Path = MODEL_CARD, expected_version: str | None = None) -> str | None:
    """Log the card as an artifact of the run that registered the champion (the model version the alias points
    at) and tag that version with the artifact's URI; returns the URI, or None (saying why) when there is no
    champion to attach it to, or the champion is not the version the card describes."""
    import mlflow
    from mlflow.exceptions import MlflowException

    uri = tracking_uri()
    if _store_missing(uri):
        print(f"  model card not logged: no MLflow store at {uri}")
        return None
    client = mlflow.MlflowClient(uri)
    try:
        champion = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    except MlflowException as error:
        print(f"  model card not logged: no {REGISTERED_MODEL}@{CHAMPION_ALIAS} in {uri} ({error.error_code})")
        return None
    if expected_version is not None and str(champion.version) != str(expected_version):
        print(f"  model card not logged: it describes version {expected_version}, "
              f"{CHAMPION_ALIAS} is version {champion.version}")
        return None
    client.log_artifact(champion.run_id, str(path))
    artifact = f"runs:/{champion.run_id}/{Path(path).name}"
    client.set_model_version_tag(REGISTERED_MODEL, champion.version, TAG, artifact)
    return artifact
