"""Production monitoring: do the clients the API scores still look like the clients the model learnt from?

`python -m app.monitor` reads the latest prediction events from the event store (env EVENTS_URL, default the
SQLite file events.db), compares the inputs of the model's top features with application_train and the predicted
probabilities with the champion's reference scores, using our PSI and evidently as the drift stage does, and
writes reports/monitoring/monitoring.html and monitoring.json. It raises an alert (a line starting with ALERT and
exit code 1, for a scheduler to act on) when a top feature or the scores pass `monitor.psi_alert`, or when the
share of drifted top features passes `monitor.drift_share_alert`.

`python -m app.monitor simulate --n N --drift {none,shift}` fills the store with events of the same schema,
drawn from application_train rows, shifted or not, to try the loop without the API.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from credit_scoring import paths
from credit_scoring.drift import (
    DriftSettings,
    column_kind,
    compare,
    feature_records,
    french_number,
    sample,
    without_sentinels,
)
from credit_scoring.events import DECISIONS, create_store, read_events, write_events
from credit_scoring.io import write_json
from credit_scoring.params import load_params

REPORT_FILE = paths.MONITORING / "monitoring.html"
SUMMARY_FILE = paths.MONITORING / "monitoring.json"
SCORE = "probability"

# The simulated drift: lower external scores and larger loans, both clearly beyond the train -> test drift.
SHIFTS = {"EXT_SOURCE_2": 0.6, "AMT_CREDIT": 1.6}  # column -> factor
SCORE_SHIFT = 1.0  # shifted clients look riskier: +1 on the logit of their probability
DEFAULT_RATE, BETA_STRENGTH = 0.08, 20.0  # probabilities without reference scores: Beta with an 8 % mean


@dataclass(frozen=True)
class MonitorSettings:
    """params.yaml ``monitor`` (params.yaml explains each value)."""

    window_events: int
    min_events: int
    psi_alert: float
    drift_share_alert: float

    @classmethod
    def from_params(cls, params: dict) -> MonitorSettings:
        section = params["monitor"]
        return cls(
            window_events=int(section["window_events"]),
            min_events=int(section["min_events"]),
            psi_alert=float(section["psi_alert"]),
            drift_share_alert=float(section["drift_share_alert"]),
        )


def inputs_like_reference(events: pd.DataFrame, reference: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The events' input fields typed as the reference types them (JSON brings numbers as ints or floats and
    missing values as null; a field never sent is all missing), sentinels removed."""
    columns = {}
    for feature in features:
        values = events[feature] if feature in events else pd.Series(None, index=events.index, dtype=object)
        if column_kind(reference[feature]) == "numerical":
            columns[feature] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            columns[feature] = values.astype(reference[feature].dtype)
    return without_sentinels(pd.DataFrame(columns, index=events.index))


def read_reference_scores(path: Path) -> tuple[pd.Series | None, str | None]:
    """The champion's reference probabilities, or None and why the score comparison is skipped."""
    if not path.is_file():
        return None, f"score comparison skipped: {path} not found (the threshold stage writes it); inputs only"
    return pd.read_parquet(path, columns=[SCORE])[SCORE], None


def check(
    events: pd.DataFrame,
    reference: pd.DataFrame,
    scores: pd.Series | None,
    drift: DriftSettings,
    monitor: MonitorSettings,
    seed: int,
):
    """Compare a window of events with the reference: returns the summary (with its alerts) and evidently's
    snapshot. The reference inputs are a seeded sample; the reference scores, when given, are sampled to the same
    size (each column is compared on its own, so the two need not come from the same clients)."""
    features = list(drift.top_features)
    current = inputs_like_reference(events, reference, features)
    absent = [f for f in features if current[f].isna().all()]
    compared = [f for f in features if f not in absent]
    if not compared:
        raise ValueError(f"no top feature ({', '.join(features)}) is among the events' inputs: nothing to monitor")
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
    summary["alerts"] = alerts(summary, monitor)
    return summary, snapshot


def alerts(summary: dict, monitor: MonitorSettings) -> list[str]:
    """The alert lines, each starting with ALERT and naming what drifted."""
    lines = []
    high = {f: r["psi"] for f, r in summary["features"].items() if r["psi_alert"]}
    if high:
        named = ", ".join(f"{f} ({v:.2f})" for f, v in sorted(high.items(), key=lambda kv: -kv[1]))
        lines.append(f"ALERT PSI above {monitor.psi_alert:g} on top features: {named}")
    n = len(summary["features"])
    if summary["drifted_share"] > monitor.drift_share_alert:
        lines.append(
            f"ALERT {len(summary['drifted_features'])} of {n} top features drift "
            f"(share {summary['drifted_share']:.2f} > {monitor.drift_share_alert:g}): "
            + ", ".join(summary["drifted_features"])
        )
    scores = summary.get("scores")
    if scores and scores["psi_alert"]:
        lines.append(
            f"ALERT predicted probabilities drift: PSI {scores['psi']:.2f} > {monitor.psi_alert:g} "
            f"(mean {scores['mean_reference']:.3f} in reference, {scores['mean_current']:.3f} now)"
        )
    return lines


def decision_threshold(params: dict) -> float:
    """The cost-optimal threshold for calibrated probabilities, fp / (fp + fn): what simulated events are decided
    with, so that they need no trained model."""
    return params["cost"]["fp"] / (params["cost"]["fp"] + params["cost"]["fn"])


def simulate_events(
    reference: pd.DataFrame, n: int, drift: str, rng: np.random.Generator, scores: pd.Series | None, threshold: float
) -> list[dict]:
    """n events as the API would store them: inputs are application_train rows, with EXT_SOURCE_2 and AMT_CREDIT
    moved when drift is "shift"; probabilities are drawn from the reference scores (else from a Beta with an 8 %
    mean), raised on the logit scale under "shift"."""
    rows = reference.iloc[rng.integers(0, len(reference), n)].reset_index(drop=True)
    if drift == "shift":
        rows = rows.assign(**{c: rows[c] * factor for c, factor in SHIFTS.items()})
    if scores is not None:
        probabilities = rng.choice(scores.to_numpy(dtype="float64"), n)
    else:
        probabilities = rng.beta(DEFAULT_RATE * BETA_STRENGTH, (1 - DEFAULT_RATE) * BETA_STRENGTH, n)
    if drift == "shift":
        probabilities = expit(logit(np.clip(probabilities, 1e-6, 1 - 1e-6)) + SCORE_SHIFT)
    clients = rows["SK_ID_CURR"].tolist()
    inputs = rows.drop(columns=["SK_ID_CURR", "TARGET"], errors="ignore").to_dict("records")
    latencies = rng.lognormal(np.log(15.0), 0.4, n)
    return [
        {
            "model_version": "simulated",
            "client_id": client,
            "inputs": fields,
            "probability": float(p),
            "decision": DECISIONS[int(p >= threshold)],
            "threshold": threshold,
            "latency_ms": float(latency),
            "endpoint": "simulate",
        }
        for client, fields, p, latency in zip(clients, inputs, probabilities, latencies, strict=True)
    ]


def window_events(engine, since: datetime | None, settings: MonitorSettings) -> tuple[pd.DataFrame, dict]:
    """The events to judge: those since a time when given, else the latest `window_events`."""
    limit = None if since is not None else settings.window_events
    events = read_events(engine, since=since, limit=limit)
    window = {
        "events": len(events),
        "since": since.isoformat() if since is not None else None,
        "limit": limit,
        "first_event_at": events["created_at"].min().isoformat() if len(events) else None,
        "last_event_at": events["created_at"].max().isoformat() if len(events) else None,
    }
    return events, window


def run_check(args: argparse.Namespace, params: dict) -> int:
    drift, monitor = DriftSettings.from_params(params), MonitorSettings.from_params(params)
    started = time.perf_counter()
    engine = create_store()
    events, window = window_events(engine, args.since, monitor)
    engine.dispose()
    scores, skipped = read_reference_scores(args.reference_scores)
    settings = {**asdict(monitor), "top_features": list(drift.top_features)}
    base = {"backend": engine.dialect.name, "window": window, "settings": settings}
    if len(events) < monitor.min_events:
        note = f"only {len(events)} events in the window, fewer than monitor.min_events = {monitor.min_events}"
        print(f"monitor: {note}; nothing compared")
        REPORT_FILE.unlink(missing_ok=True)  # an older report would pass for this window's
        write_json(SUMMARY_FILE, {"status": "not_enough_events", **base, "note": note, "alerts": [],
                                  "seconds": round(time.perf_counter() - started, 2)})
        return 0
    if skipped:
        print(f"monitor: {skipped}")
    reference = pd.read_parquet(paths.APPLICATION_TRAIN, columns=list(drift.top_features))
    summary, snapshot = check(events, reference, scores, drift, monitor, params["seed"])
    if skipped:
        summary["scores"] = {"skipped": skipped}
    paths.MONITORING.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(REPORT_FILE))
    status = "alert" if summary["alerts"] else "ok"
    write_json(SUMMARY_FILE, {"status": status, **base, **summary, "seconds": round(time.perf_counter() - started, 2)})
    share = french_number(100 * summary["drifted_share"], 1)
    print(f"monitor: {len(events)} events, {len(summary['drifted_features'])} of {len(summary['features'])} top "
          f"features drift ({share} %); report in {REPORT_FILE}")
    for line in summary["alerts"]:
        print(line, file=sys.stderr)
    return 1 if summary["alerts"] else 0


def run_simulate(args: argparse.Namespace, params: dict) -> int:
    rng = np.random.default_rng(params["seed"] if args.seed is None else args.seed)
    scores, skipped = read_reference_scores(args.reference_scores)
    if skipped:
        print(f"simulate: {args.reference_scores} not found; probabilities drawn from a Beta with an 8 % mean")
    reference = pd.read_parquet(paths.APPLICATION_TRAIN)
    events = simulate_events(reference, args.n, args.drift, rng, scores, decision_threshold(params))
    engine = create_store()
    written = write_events(engine, events)
    engine.dispose()
    print(f"simulate: {written} events ({args.drift}) written to the {engine.dialect.name} event store")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    scores_help = f"parquet with a '{SCORE}' column of reference probabilities (default {paths.REFERENCE_SCORES})"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-scores", type=Path, default=paths.REFERENCE_SCORES, help=scores_help)
    parser.add_argument("--since", type=datetime.fromisoformat,
                        help="judge the events created since this ISO time (with its zone) instead of the latest "
                             "monitor.window_events")
    commands = parser.add_subparsers(dest="command")
    simulate = commands.add_parser("simulate", help="fill the event store with simulated events")
    simulate.add_argument("--reference-scores", type=Path, default=argparse.SUPPRESS, help=scores_help)
    simulate.add_argument("--n", type=int, required=True, help="number of events")
    simulate.add_argument("--drift", choices=["none", "shift"], default="none")
    simulate.add_argument("--seed", type=int, help="default: params.yaml seed")
    args = parser.parse_args(argv)
    if args.since is not None and args.since.tzinfo is None:
        parser.error("--since needs a time zone, e.g. 2025-01-31T00:00:00+00:00")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    params = load_params()
    return run_simulate(args, params) if args.command == "simulate" else run_check(args, params)


if __name__ == "__main__":
    sys.exit(main())
