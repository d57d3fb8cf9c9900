"""What the monitor judges: its settings, the events' features beside the reference, the
performance and drift alerts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from credit_scoring.common import paths
from credit_scoring.explain.local import CONFIG_FILE
from credit_scoring.features.application import APPLICATION, KEY, application_features, application_frame
from credit_scoring.features.history_specs import HISTORY_FLAGS, history_feature_names
from credit_scoring.governance.stability import (  # lets evidently import under pandas 3 (see classification_report)
    DriftSettings,
    compare,
    feature_records,
    sample,
    watched_features,
    without_sentinels,
)
from credit_scoring.modeling.bundle import BUNDLE_FILE
from credit_scoring.production import performance as perf
from credit_scoring.production.events import DECISIONS

SCORE = "probability"


@dataclass(frozen=True)
class MonitorSettings:
    """params.yaml ``monitor`` (params.yaml explains each value), and ``drift.watched_features``: the monitor
    watches the same features as the drift stage."""

    window_events: int
    min_events: int
    psi_alert: float
    drift_share_alert: float
    watched_features: int
    alpha: float
    period: str
    min_outcomes: int
    override_band: tuple[float, float]
    min_reviews: int

    @classmethod
    def from_params(cls, params: dict) -> MonitorSettings:
        section = params["monitor"]
        if section["period"] not in perf.PERIODS:
            raise ValueError(f"params.yaml monitor.period must be one of {', '.join(perf.PERIODS)}, "
                             f"got {section['period']!r}")
        band = section["override_band"]
        if not (isinstance(band, list | tuple) and len(band) == 2 and 0 <= float(band[0]) <= float(band[1]) <= 1):
            raise ValueError(f"params.yaml monitor.override_band must be [low, high] with 0 <= low <= high <= 1, "
                             f"got {section['override_band']!r}")
        return cls(
            window_events=int(section["window_events"]),
            min_events=int(section["min_events"]),
            psi_alert=float(section["psi_alert"]),
            drift_share_alert=float(section["drift_share_alert"]),
            watched_features=int(params["drift"]["watched_features"]),  # the drift stage's list: one source
            alpha=float(section["alpha"]),
            period=str(section["period"]),
            min_outcomes=int(section["min_outcomes"]),
            override_band=(float(band[0]), float(band[1])),
            min_reviews=int(section["min_reviews"]),
        )


def watched_names(count: int, explain_dir: Path = paths.EXPLAIN) -> list[str]:
    """The champion's `count` top features by mean |SHAP| (the explain stage's global_importance)."""
    config = explain_dir / CONFIG_FILE
    if not config.is_file():
        raise FileNotFoundError(f"{config} not found: the explain stage ranks the features the monitor watches")
    return watched_features(json.loads(config.read_text())["global_importance"], count)


def client_history(names: list[str]) -> pd.DataFrame:
    """The known clients' history features among `names`, indexed by SK_ID_CURR, from the featurize stage's files
    (the rows the API joins to a known client's request)."""
    wanted = [n for n in names if n in set(history_feature_names())]
    frames = [pd.read_parquet(path, columns=[KEY, *wanted]).set_index(KEY)
              for path in (paths.FEATURES_TRAIN, paths.FEATURES_TEST) if path.is_file()]
    return pd.concat(frames) if frames else pd.DataFrame(columns=wanted, index=pd.Index([], name=KEY))


def event_features(events: pd.DataFrame, names: list[str], history: pd.DataFrame) -> pd.DataFrame:
    """The watched features of the events, with the serving feature code: the application features recomputed
    from the stored inputs (`credit_scoring.features.application_features`, as the API does), the history
    features from the client's featurized row (a new or unknown client has none: flags 0, aggregates missing)."""
    fields = [c for c in events.columns if c in set(APPLICATION.column_names)]
    clients = events["client_id"].astype("float64").fillna(0).astype("int64").to_numpy()
    records = [{**{k: v for k, v in r.items() if not _missing(v)}, KEY: int(c)}
               for r, c in zip(events[fields].to_dict("records"), clients, strict=True)]
    app = application_features(application_frame(records)).reset_index(drop=True)
    known = pd.Index(history.index).get_indexer(clients)
    columns = {}
    for name in names:
        if name in app.columns:
            columns[name] = app[name].to_numpy(dtype="float64")
        elif name in history.columns:
            values = history[name].to_numpy(dtype="float64")[np.maximum(known, 0)]
            blank = 0.0 if name in set(HISTORY_FLAGS.values()) else np.nan
            columns[name] = np.where(known >= 0, values, blank)
        else:
            raise ValueError(f"watched feature {name} is neither an application nor a history feature")
    return without_sentinels(pd.DataFrame(columns, index=events.index))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def check(
    events: pd.DataFrame,
    current: pd.DataFrame,
    reference: pd.DataFrame,
    scores: pd.Series | None,
    drift: DriftSettings,
    monitor: MonitorSettings,
    seed: int,
):
    """Compare a window of events (their watched features in `current`, see `event_features`) with the reference
    (the same features of training clients): returns the summary (with its alerts) and evidently's snapshot. The
    reference is a seeded sample; the reference scores, when given, are sampled to the same size (each column is
    compared on its own, so the two need not come from the same clients)."""
    features = list(current.columns)
    current = current.copy()
    absent = [f for f in features if current[f].isna().all()]
    compared = [f for f in features if f not in absent]
    if not compared:
        raise ValueError(f"no watched feature ({', '.join(features)}) is known for the events: nothing to monitor")
    n_ref = min(len(reference), drift.sample_size, *([len(scores)] if scores is not None else []))
    ref = without_sentinels(sample(reference[compared], n_ref, seed)).reset_index(drop=True)
    columns = list(compared)
    if scores is not None:
        ref[SCORE] = sample(scores.to_frame(), n_ref, seed)[SCORE].to_numpy()
        current[SCORE] = events[SCORE].astype("float64")
        columns.append(SCORE)
    table, snapshot = compare(ref, current[columns], columns, drift, seed, drift_share=monitor.drift_share_alert)
    records = {f: {**r, "psi_alert": r["psi"] > monitor.psi_alert} for f, r in feature_records(table).items()}
    drifted = [f for f in compared if records[f]["drifted"]]
    summary = {
        "features": {f: records[f] for f in compared},
        "absent_features": absent,
        "drifted_features": drifted,
        "drifted_share": len(drifted) / len(compared),
        "reference_rows": n_ref,
    }
    if scores is not None:
        summary["scores"] = {
            **records[SCORE],
            "mean_reference": float(ref[SCORE].mean()),
            "mean_current": float(current[SCORE].mean()),
            "refusal_rate": float((events["decision"] == DECISIONS[1]).mean()),
        }
    summary["alerts"] = drift_alerts(summary, monitor)
    return summary, snapshot


def drift_alerts(summary: dict, monitor: MonitorSettings) -> list[str]:
    """The drift alert lines, each starting with ALERT drift and naming what drifted."""
    lines = []
    high = {f: r["psi"] for f, r in summary["features"].items() if r["psi_alert"]}
    if high:
        named = ", ".join(f"{f} ({v:.2f})" for f, v in sorted(high.items(), key=lambda kv: -kv[1]))
        lines.append(f"ALERT drift: PSI above {monitor.psi_alert:g} on top features: {named}")
    n = len(summary["features"])
    if summary["drifted_share"] > monitor.drift_share_alert:
        lines.append(
            f"ALERT drift: {len(summary['drifted_features'])} of {n} top features drift "
            f"(share {summary['drifted_share']:.2f} > {monitor.drift_share_alert:g}): "
            + ", ".join(summary["drifted_features"])
        )
    scores = summary.get("scores")
    if scores and scores["psi_alert"]:
        lines.append(
            f"ALERT drift: predicted probabilities drift: PSI {scores['psi']:.2f} > {monitor.psi_alert:g} "
            f"(mean {scores['mean_reference']:.3f} in reference, {scores['mean_current']:.3f} now)"
        )
    return lines


def decision_threshold(params: dict, bundle_file: Path = paths.CHAMPION / BUNDLE_FILE) -> float:
    """What simulated events are decided with: the champion's threshold when its bundle is there, else the
    cost-optimal threshold for calibrated probabilities, fp / (fp + fn), so that they need no trained model."""
    if bundle_file.is_file():
        return float(json.loads(bundle_file.read_text())["threshold"])
    return params["cost"]["fp"] / (params["cost"]["fp"] + params["cost"]["fn"])
