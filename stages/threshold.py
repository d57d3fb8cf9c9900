"""threshold stage: the decision threshold from the business cost, then the holdout scored once.

The cost-versus-threshold curve is computed on the tuned model's out-of-fold predictions (never on the
holdout); 0.5, the F1-optimal and the cost-optimal thresholds are compared there. The final model is refitted
on the whole training part with the tuned number of rounds, then the holdout is scored exactly once. On
synthetic data the hidden true probabilities are scored the same way (threshold chosen on the training part)
to give the oracle metrics. The model is logged to MLflow with its signature and an input example,
registered as ``home-credit-scoring`` with the alias ``champion``, and exported to ``models/champion/`` for
the API.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import joblib
import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, precision_recall_curve, roc_curve

from credit_scoring.bundle import BUNDLE_FILE, MODEL_FILE, REFERENCE_SCORES
from credit_scoring.cost import THRESHOLD_GRID, best_threshold, cost_curve, f1_curve, f1_threshold, scores_at
from credit_scoring.io import write_json
from credit_scoring.modeling import ORACLE, load_training, make_estimator
from credit_scoring.params import load_params
from credit_scoring.formatting import french_number
from credit_scoring.plots import OKABE_ITO, french_axis, new_figure, save
from credit_scoring.tracking import CHAMPION_ALIAS, REGISTERED_MODEL, start_tracking

TUNED = Path("models/tuned")
CHAMPION = Path("models/champion")
FIGURES = Path("reports/figures")
METRICS = Path("reports/metrics/threshold.json")
TIMING = Path("reports/metrics/threshold_timing.json")  # apart, so threshold.json is identical run to run
TABLE = Path("reports/tables/thresholds.csv")
MAX_PLAUSIBLE_AUC = 0.82  # above this on real data: overfitting or leakage (the Kaggle winner scored 0.806)


def threshold_table(y, proba, fn_cost: float, fp_cost: float) -> pd.DataFrame:
    """0.5, the F1-optimal and the cost-optimal thresholds, each scored on the out-of-fold predictions."""
    chosen = {
        "0,5 (par défaut)": 0.5,
        "optimum du F1": f1_threshold(y, proba),
        "optimum du coût métier": best_threshold(y, proba, fn_cost, fp_cost)[0],
    }
    rows = []
    for name, t in chosen.items():
        s = scores_at(y, proba, t, fn_cost, fp_cost)
        rows.append({"seuil": name, "valeur": t, "cout_par_client": s.cost_per_client, "f1": s.f1,
                     "rappel": s.recall, "precision": s.precision, "exactitude": s.accuracy,
                     "taux_de_refus": (s.tp + s.fp) / len(y)})
    return pd.DataFrame(rows)


def oracle_metrics(params: dict, data) -> dict:
    """The same metrics from the hidden true probabilities (synthetic data only), threshold chosen the same
    way: on the training part, then applied once to the holdout."""
    if not ORACLE.exists():
        return {}
    pd_true = pd.read_parquet(ORACLE).set_index("SK_ID_CURR")["PD"]
    cost = params["cost"]
    t, _ = best_threshold(data.y, pd_true.reindex(data.ids).to_numpy(), cost["fn"], cost["fp"])
    s = scores_at(data.y_holdout, pd_true.reindex(data.ids_holdout).to_numpy(), t, cost["fn"], cost["fp"])
    return {"oracle_holdout_auc": s.auc, "oracle_holdout_cost_per_client": s.cost_per_client, "oracle_threshold": t}


# --------------------------------------------------------------------------------------------------------
# Figures (French, colour-blind-safe, never colour alone).
# --------------------------------------------------------------------------------------------------------
def cost_figure(y, proba, table: pd.DataFrame, cost: dict) -> Path:
    fig, ax = new_figure(6.8, 5.4)
    costs = cost_curve(y, proba, cost["fn"], cost["fp"])
    ax.plot(THRESHOLD_GRID, costs, color=OKABE_ITO["blue"], label="coût moyen par client")
    ax2 = ax.twinx()
    ax2.plot(THRESHOLD_GRID, f1_curve(y, proba), color=OKABE_ITO["orange"], linestyle="--", label="F1")
    ax2.set_ylabel("F1")
    ax2.grid(False)
    markers = {"0,5 (par défaut)": ("s", OKABE_ITO["black"]), "optimum du F1": ("^", OKABE_ITO["orange"]),
               "optimum du coût métier": ("o", OKABE_ITO["vermillion"])}
    for row in table.itertuples():
        marker, colour = markers[row.seuil]
        ax.plot(row.valeur, row.cout_par_client, marker=marker, color=colour, markersize=9, linestyle="none",
                label=f"seuil {row.seuil} : {french_number(row.valeur, 3)} (coût {french_number(row.cout_par_client, 3)})")
    ax.set_xlabel("seuil de refus (probabilité de défaut)")
    ax.set_ylabel(f"coût par client (FN = {cost['fn']}, FP = {cost['fp']})")
    ax.set_title("Coût métier selon le seuil (prédictions hors échantillon)")
    french_axis(ax)
    french_axis(ax2, "y")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=1, fontsize=8, frameon=False)
    return save(fig, FIGURES / "cost_threshold.png")


def roc_figure(y, proba, oracle_proba) -> Path:
    fig, ax = new_figure(5.2, 4.6)
    fpr, tpr, _ = roc_curve(y, proba)
    ax.plot(fpr, tpr, color=OKABE_ITO["blue"], label="modèle retenu")
    if oracle_proba is not None:
        fpr, tpr, _ = roc_curve(y, oracle_proba)
        ax.plot(fpr, tpr, color=OKABE_ITO["green"], linestyle="--", label="probabilités vraies (oracle)")
    ax.plot([0, 1], [0, 1], color=OKABE_ITO["black"], linestyle=":", label="hasard")
    ax.set_xlabel("taux de faux positifs (bons clients refusés)")
    ax.set_ylabel("taux de vrais positifs (défauts détectés)")
    ax.set_title("Courbe ROC sur l'échantillon de validation finale")
    french_axis(ax)
    ax.legend(loc="lower right")
    return save(fig, FIGURES / "roc.png")


def precision_recall_figure(y, proba) -> Path:
    fig, ax = new_figure(5.2, 4.6)
    precision, recall, _ = precision_recall_curve(y, proba)
    ax.plot(recall, precision, color=OKABE_ITO["blue"], label="modèle retenu")
    ax.axhline(np.mean(y), color=OKABE_ITO["black"], linestyle=":", label="taux de défaut (hasard)")
    ax.set_xlabel("rappel (part des défauts détectés)")
    ax.set_ylabel("précision (part de défauts parmi les refus)")
    ax.set_title("Précision et rappel (validation finale)")
    french_axis(ax)
    ax.legend(loc="upper right")
    return save(fig, FIGURES / "precision_recall.png")


def calibration_figure(y, proba, brier: float) -> Path:
    fig, ax = new_figure(5.2, 4.6)
    observed, predicted = calibration_curve(y, proba, n_bins=10, strategy="quantile")
    ax.plot(predicted, observed, marker="o", color=OKABE_ITO["blue"], label="modèle retenu (déciles)")
    top = max(predicted.max(), observed.max()) * 1.05
    ax.plot([0, top], [0, top], color=OKABE_ITO["black"], linestyle=":", label="calibration parfaite")
    ax.set_xlabel("probabilité de défaut prédite")
    ax.set_ylabel("taux de défaut observé")
    ax.set_title(f"Calibration (score de Brier {french_number(brier, 4)})")
    french_axis(ax)
    ax.legend(loc="upper left")
    return save(fig, FIGURES / "calibration.png")


def confusion_figure(s) -> Path:
    fig, ax = new_figure(6.4, 4.6)
    cells = np.array([[s.tn, s.fp], [s.fn, s.tp]])
    ax.imshow(cells, cmap="Blues")
    ax.grid(False)
    labels = [["accordés, remboursent\n(vrais négatifs)", "refusés, auraient remboursé\n(faux positifs)"],
              ["accordés, font défaut\n(faux négatifs)", "refusés, auraient fait défaut\n(vrais positifs)"]]
    for i in range(2):
        for j in range(2):
            dark = cells[i, j] > cells.max() / 2
            ax.text(j, i, f"{french_number(cells[i, j], 0)}\n{labels[i][j]}", ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    ax.set_xticks([0, 1], ["accordé", "refusé"])
    ax.set_yticks([0, 1], ["rembourse", "défaut"])
    ax.set_xlabel("décision du modèle")
    ax.set_ylabel("réalité")
    ax.set_title(f"Matrice de confusion au seuil {french_number(s.threshold, 3)}")
    return save(fig, FIGURES / "confusion_matrix.png")


# --------------------------------------------------------------------------------------------------------
# Registry and export.
# --------------------------------------------------------------------------------------------------------
def register(model, algorithm: str, X_example: pd.DataFrame, metrics: dict) -> str:
    """Log the model with signature and input example, register it and move the champion alias to it."""
    signature = infer_signature(X_example, model.predict_proba(X_example)[:, 1])
    common = {"name": "model", "signature": signature, "input_example": X_example.head(3),
              "registered_model_name": REGISTERED_MODEL}
    if algorithm == "lightgbm":
        info = mlflow.lightgbm.log_model(model, **common)
    else:  # skops refuses types it does not know unless told: trust exactly those of our own fitted model
        import skops.io

        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        info = mlflow.sklearn.log_model(model, skops_trusted_types=trusted, **common)
    client = mlflow.MlflowClient()
    version = str(info.registered_model_version)
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION_ALIAS, version)
    for key in ("threshold", "holdout_auc", "holdout_cost_per_client"):
        client.set_model_version_tag(REGISTERED_MODEL, version, key, str(metrics[key]))
    return version


def export_champion(model, bundle: dict, reference_scores: pd.DataFrame, out: Path = CHAMPION) -> None:
    """Everything the API needs, written to a temporary folder then swapped into place."""
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    joblib.dump(model, tmp / MODEL_FILE)
    reference_scores.to_parquet(tmp / REFERENCE_SCORES, index=False)
    (tmp / BUNDLE_FILE).write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def main() -> None:
    params = load_params()
    started = time.perf_counter()
    cost, seed = params["cost"], params["seed"]
    best = json.loads((TUNED / "best.json").read_text())
    oof = pd.read_parquet(TUNED / "oof.parquet")
    data = load_training(exclude_protected=params["features"]["exclude_protected"])
    if not np.array_equal(oof["SK_ID_CURR"].to_numpy(), data.ids):
        raise ValueError("models/tuned/oof.parquet does not match the training part: rerun the tune stage")

    table = threshold_table(oof["TARGET"], oof["proba"], cost["fn"], cost["fp"])
    threshold = float(table.loc[table["seuil"] == "optimum du coût métier", "valeur"].iloc[0])
    model = make_estimator(best["algorithm"], best["params"], seed, best["rounds"], early_stopping=False)
    model.fit(data.X, data.y)
    proba = model.predict_proba(data.X_holdout)[:, 1]  # the one and only look at the holdout
    s = scores_at(data.y_holdout, proba, threshold, cost["fn"], cost["fp"])
    brier = float(brier_score_loss(data.y_holdout, proba))
    metrics = {
        **{k: v for k, v in s.as_dict("holdout_").items() if not k.endswith(("_tp", "_fp", "_tn", "_fn"))},
        "threshold": threshold,
        "holdout_brier": brier,
        "f1_threshold": float(table["valeur"].iloc[1]),
        "oof_cost_at_0_5": float(table["cout_par_client"].iloc[0]),
        "oof_cost_at_f1_threshold": float(table["cout_par_client"].iloc[1]),
        "oof_cost_at_threshold": float(table["cout_par_client"].iloc[2]),
        "algorithm": best["algorithm"],
        "holdout_clients": int(len(proba)),
        **oracle_metrics(params, data),
    }
    metrics.pop("holdout_threshold")
    cv_auc = json.loads(Path("reports/metrics/tune.json").read_text())["cv_auc"]
    warnings = []
    if params["data"]["source"] != "synthetic" and max(cv_auc, s.auc) > MAX_PLAUSIBLE_AUC:
        warnings.append(f"AUC above {MAX_PLAUSIBLE_AUC} on real data (CV {cv_auc:.3f}, holdout {s.auc:.3f}): "
                        "suspect overfitting or leakage")
    metrics["warnings"] = warnings

    TABLE.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(TABLE, index=False, float_format="%.6f")
    oracle_proba = None
    if ORACLE.exists():
        oracle_proba = pd.read_parquet(ORACLE).set_index("SK_ID_CURR")["PD"].reindex(data.ids_holdout).to_numpy()
    figures = [cost_figure(oof["TARGET"], oof["proba"], table, cost), roc_figure(data.y_holdout, proba, oracle_proba),
               precision_recall_figure(data.y_holdout, proba), calibration_figure(data.y_holdout, proba, brier),
               confusion_figure(s)]

    start_tracking()
    with mlflow.start_run(run_name="threshold") as run:
        mlflow.set_tags({"stage": "threshold", "algorithm": best["algorithm"]})
        mlflow.log_params({"threshold": threshold, "algorithm": best["algorithm"], "rounds": best["rounds"],
                           **{f"model_{k}": v for k, v in best["params"].items()}, "cost_fn": cost["fn"],
                           "cost_fp": cost["fp"]})
        mlflow.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
        for figure in figures:
            mlflow.log_artifact(str(figure), artifact_path="figures")
        mlflow.log_artifact(str(TABLE))
        version = register(model, best["algorithm"], data.X_holdout, metrics)
        run_id = run.info.run_id
    bundle = {
        "model_name": REGISTERED_MODEL,
        "model_version": version,
        "mlflow_run_id": run_id,
        "algorithm": best["algorithm"],
        "threshold": threshold,
        "features": data.feature_names,
        "cost": cost,
        "metrics": {k: v for k, v in metrics.items() if k != "warnings"},
        "data_source": params["data"]["source"],
        "exclude_protected": params["features"]["exclude_protected"],
    }
    export_champion(model, bundle, pd.DataFrame({"SK_ID_CURR": data.ids_holdout, "probability": proba}))
    write_json(METRICS, metrics)
    write_json(TIMING, {"seconds": round(time.perf_counter() - started, 1), "model_version": version})


if __name__ == "__main__":
    main()
