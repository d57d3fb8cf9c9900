"""Production monitoring: are the API's decisions still as good as the holdout promised, and do its clients still
look like the clients the model learnt from?

`python -m app.monitor` reads the event store (env EVENTS_URL, default the SQLite file events.db) and:

- joins the loan outcomes (`loan_outcomes`, see `credit_scoring.outcomes`) to the served decisions and reports,
  per period of decision (`monitor.period`), the realized default rate among granted loans, AUC, cost per client
  and calibration beside the holdout's expectation with its uncertainty band, and an estimate from the served
  probabilities while outcomes are missing (`credit_scoring.performance`);
- compares the latest events' inputs on the model's top features with application_train and the predicted
  probabilities with the champion's reference scores, using our PSI and evidently as the drift stage does;
- reports, per period of review, the share of the decisions reviewed by a person that they overrode
  (`decision_reviews`, see `credit_scoring.reviews`);
- writes reports/monitoring/monitoring.html and monitoring.json, and for a scheduler to act on, exits with 1 and
  prints lines starting with `ALERT performance` (realized AUC or cost per client significantly worse than
  expected, one-sided at `monitor.alpha`), `ALERT calibration` (observed default rate outside the band the served
  probabilities predict), `ALERT drift` (a top feature or the scores past `monitor.psi_alert`, or more than
  `monitor.drift_share_alert` of the top features drifting) or `ALERT review` (the latest period with at least
  `monitor.min_reviews` reviews has an override rate outside `monitor.override_band`).

`python -m app.monitor outcomes --file F.csv` stores outcomes (columns request_id or SK_ID_CURR, TARGET,
observed_at). `python -m app.monitor simulate --n N --drift {none,shift} --performance {stable,degraded}` fills
the store with events and their outcomes, to try the loop without the API.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from credit_scoring import paths
from credit_scoring import performance as perf
from credit_scoring.bundle import BUNDLE_FILE
from credit_scoring.drift import (  # lets evidently import under pandas 3 (see classification_report)
    DriftSettings,
    Snapshot,
    compare,
    feature_records,
    french_number,
    french_share,
    sample,
    watched_features,
    without_sentinels,
)
from credit_scoring.events import DECISIONS, read_events, write_events
from credit_scoring.explain import CONFIG_FILE
from credit_scoring.features import (
    APPLICATION,
    HISTORY_FLAGS,
    KEY,
    application_features,
    application_frame,
    history_feature_names,
)
from credit_scoring.io import write_json
from credit_scoring.outcomes import (
    Outcome,
    OutcomeError,
    create_outcome_store,
    read_decisions,
    read_outcome_csv,
    read_outcomes,
    store_outcomes,
)
from credit_scoring.params import load_params
from credit_scoring.reviews import create_review_tables, override_rates, review_alerts, reviews_frame

REPORT_FILE = paths.MONITORING / "monitoring.html"
SUMMARY_FILE = paths.MONITORING / "monitoring.json"
SCORE = "probability"
REVIEW_TITLE = "Révisions humaines\u00a0: décisions du modèle infirmées par période de révision"
CLASSIFICATION_ROWS = 20_000  # holdout clients evidently's classification report compares with (seeded sample)

# The simulated drift: lower external scores and larger loans, both clearly beyond the train -> test drift.
SHIFTS = {"EXT_SOURCE_2": 0.6, "AMT_CREDIT": 1.6}  # column -> factor
SCORE_SHIFT = 1.0  # shifted clients look riskier: +1 on the logit of their probability
DEFAULT_RATE, BETA_STRENGTH = 0.08, 20.0  # probabilities without reference scores: Beta with an 8 % mean
# The simulated concept drift: for this share of clients, default follows another client's risk instead of their
# own drivers. Inputs and scores keep their distribution (no drift check can see it) but the ranking weakens.
DEGRADED_SHARE = 0.5


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


def simulated_clients(
    reference: pd.DataFrame, n: int, rng: np.random.Generator, scores: pd.DataFrame | None
) -> tuple[pd.DataFrame, np.ndarray]:
    """n application_train rows and their probabilities: holdout clients with their own reference score when the
    reference scores carry SK_ID_CURR, else random rows with scores drawn from the reference scores (or a Beta with
    an 8 % mean)."""
    if scores is not None and "SK_ID_CURR" in scores:
        scored = reference.merge(scores[["SK_ID_CURR", SCORE]], on="SK_ID_CURR")
        if len(scored):
            drawn = scored.iloc[rng.integers(0, len(scored), n)].reset_index(drop=True)
            return drawn.drop(columns=SCORE), drawn[SCORE].to_numpy(dtype="float64")
    rows = reference.iloc[rng.integers(0, len(reference), n)].reset_index(drop=True)
    if scores is not None:
        return rows, rng.choice(scores[SCORE].to_numpy(dtype="float64"), n)
    return rows, rng.beta(DEFAULT_RATE * BETA_STRENGTH, (1 - DEFAULT_RATE) * BETA_STRENGTH, n)


def simulate_events(
    rows: pd.DataFrame, probabilities: np.ndarray, drift: str, rng: np.random.Generator, threshold: float
) -> list[dict]:
    """Events as the API would store them for these clients: EXT_SOURCE_2 and AMT_CREDIT moved and the
    probabilities raised on the logit scale when drift is "shift"."""
    if drift == "shift":
        rows = rows.assign(**{c: rows[c] * factor for c, factor in SHIFTS.items() if c in rows})
        probabilities = expit(logit(np.clip(probabilities, 1e-6, 1 - 1e-6)) + SCORE_SHIFT)
    clients = rows["SK_ID_CURR"].tolist()
    inputs = rows.drop(columns=["SK_ID_CURR", "TARGET"], errors="ignore").to_dict("records")
    latencies = rng.lognormal(np.log(15.0), 0.4, len(rows))
    return [
        {
            "request_id": uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63))).hex,
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


def simulated_targets(probabilities: np.ndarray, performance: str, rng: np.random.Generator) -> np.ndarray:
    """Defaults drawn from the served probabilities (a calibrated model: "stable"); under "degraded", for
    DEGRADED_SHARE of the clients the default follows another client's probability, so that it no longer
    depends on the client's own drivers, while the default rate and every input distribution stay the same."""
    risk = np.asarray(probabilities, dtype="float64").copy()
    if performance == "degraded":
        moved = rng.random(len(risk)) < DEGRADED_SHARE
        risk[moved] = rng.permutation(risk)[moved]
    return (rng.random(len(risk)) < risk).astype("int64")


def read_holdout(scores: pd.DataFrame | None) -> tuple[pd.DataFrame | None, str | None]:
    """The holdout's probabilities and outcomes (columns probability, target): the reference scores joined on
    SK_ID_CURR to application_train's TARGET; or None and why realized performance cannot be compared."""
    if scores is None or "SK_ID_CURR" not in scores:
        return None, "no reference scores with SK_ID_CURR: realized performance is not compared with the holdout"
    labels = pd.read_parquet(paths.APPLICATION_TRAIN, columns=["SK_ID_CURR", "TARGET"])
    holdout = scores.merge(labels, on="SK_ID_CURR").rename(columns={"TARGET": "target"})
    if holdout.empty:
        return None, "the reference scores' clients are not in application_train: no holdout to compare with"
    return holdout[[SCORE, "target"]], None


def read_reference(path: Path) -> tuple[pd.DataFrame | None, str | None]:
    """The champion's reference scores (probability, and SK_ID_CURR when the file has it: the holdout clients),
    or None and why the score comparison is skipped."""
    if not path.is_file():
        return None, f"score comparison skipped: {path} not found (the threshold stage writes it); inputs only"
    return pd.read_parquet(path), None


def performance_section(engine, holdout: pd.DataFrame | None, params: dict,
                        monitor: MonitorSettings) -> tuple[dict, Snapshot | None]:
    """Realized performance per period of decision, beside the holdout's expectation, and its alerts; with
    evidently's classification report of the latest judged period against the holdout."""
    decisions, outcomes = read_decisions(engine), read_outcomes(engine)
    periods = perf.realized_performance(decisions, outcomes, holdout, params["cost"], monitor.alpha,
                                        monitor.min_outcomes, monitor.period) if len(decisions) else {}
    section = {"decisions": len(decisions), "outcomes": len(outcomes), "period": monitor.period,
               "periods": periods, "alerts": perf.alerts(periods, monitor.alpha)}
    judged = [name for name, record in periods.items() if record.get("status") == "judged"]
    if not judged:
        return section, None
    joined = perf.join(decisions, outcomes, monitor.period)
    current = joined[(joined["period"] == judged[-1]) & joined["target"].notna()]
    section["report_period"] = judged[-1]
    return section, classification_report(holdout, current, periods[judged[-1]]["threshold"], params["seed"])


def classification_report(holdout: pd.DataFrame, current: pd.DataFrame, threshold: float, seed: int) -> Snapshot:
    """evidently's ClassificationPreset: a period's decisions with known outcomes against (a sample of) the
    holdout, both at the served threshold."""
    from evidently import BinaryClassification, DataDefinition, Dataset, Report  # after credit_scoring.drift
    from evidently.presets import ClassificationPreset

    definition = DataDefinition(classification=[BinaryClassification(target="target", prediction_probas=SCORE,
                                                                      pos_label=1)])
    frames = [frame[[SCORE, "target"]].astype({SCORE: "float64", "target": "int64"}).reset_index(drop=True)
              for frame in (current, sample(holdout, CLASSIFICATION_ROWS, seed))]
    report = Report([ClassificationPreset(probas_threshold=threshold)])
    return report.run(*(Dataset.from_pandas(frame, data_definition=definition) for frame in frames))


def write_report(parts: dict[str, Snapshot], tables: dict[str, str] | None = None) -> None:
    """One page holding each evidently report under a French title (each in its own frame: their scripts and
    styles stay apart), then our own tables (title -> HTML); no page when there is nothing to show, so an older
    one never passes for this run's."""
    tables = tables or {}
    if not parts and not tables:
        REPORT_FILE.unlink(missing_ok=True)
        return
    sections = "".join(
        f'<section><h2>{escape(title)}</h2><iframe title="{escape(title)}" style="width:100%;height:1400px;'
        f'border:0" srcdoc="{escape(snapshot.get_html_str(as_iframe=False))}"></iframe></section>'
        for title, snapshot in parts.items())
    sections += "".join(f"<section><h2>{escape(title)}</h2>{html}</section>" for title, html in tables.items())
    REPORT_FILE.write_text('<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Surveillance du '
                           'modèle en production</title></head><body style="font-family:sans-serif">'
                           f"<h1>Surveillance du modèle en production</h1>{sections}</body></html>", encoding="utf-8")


def review_section(engine, monitor: MonitorSettings) -> dict:
    """The override rate of people's reviews per period of review, the band it is judged against, its alert."""
    reviews = reviews_frame(engine)
    periods = override_rates(reviews, monitor.period, monitor.override_band, monitor.min_reviews)
    return {"reviews": len(reviews), "overrides": int((reviews["action"] == "override").sum()),
            "period": monitor.period, "override_band": list(monitor.override_band),
            "min_reviews": monitor.min_reviews, "periods": periods,
            "alerts": review_alerts(periods, monitor.override_band)}


def _judgement(record: dict, section: dict) -> str:
    if record["status"] != "judged":
        return f"moins de {section['min_reviews']}\u00a0révisions\u00a0: non jugée"
    where = {"above": "au-dessus de", "below": "en dessous de", None: "dans"}[record["side"]]
    low, high = section["override_band"]
    return f"{where} la bande [{french_share(low)}\u00a0; {french_share(high)}]"


def review_table(section: dict) -> str | None:
    """The override rates per period as an HTML table in French, or None without any review."""
    if not section["periods"]:
        return None
    head = "".join(f"<th>{h}</th>" for h in ("Période", "Révisions", "Décisions infirmées", "dont refus infirmés",
                                              "Taux d\u2019infirmation", "Appréciation"))
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{r['reviews']}</td><td>{r['overrides']}</td>"
        f"<td>{r['refusals_overridden']}</td><td>{french_share(r['override_rate'])}</td>"
        f"<td>{escape(_judgement(r, section))}</td></tr>"
        for name, r in section["periods"].items())
    return f'<table style="border-collapse:collapse" border="1" cellpadding="4"><tr>{head}</tr>{rows}</table>'


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


def drift_section(events: pd.DataFrame, scores: pd.Series | None, skipped: str | None, params: dict,
                  monitor: MonitorSettings) -> tuple[dict, object | None]:
    """Drift of the window's watched features and scores (and evidently's snapshot), or why it was not judged."""
    drift = DriftSettings.from_params(params)
    watched = watched_names(monitor.watched_features)
    if len(events) < monitor.min_events:
        note = f"only {len(events)} events in the window, fewer than monitor.min_events = {monitor.min_events}"
        return {"status": "not_enough_events", "watched_features": watched, "note": note, "alerts": []}, None
    current = event_features(events, watched, client_history(watched))
    reference = without_sentinels(pd.read_parquet(paths.FEATURES_TRAIN, columns=watched))
    summary, snapshot = check(events, current, reference, scores, drift, monitor, params["seed"])
    if skipped:
        summary["scores"] = {"skipped": skipped}
    return {"status": "judged", "watched_features": watched, **summary}, snapshot


def run_check(args: argparse.Namespace, params: dict) -> int:
    monitor = MonitorSettings.from_params(params)
    started = time.perf_counter()
    engine = create_outcome_store()
    create_review_tables(engine)
    events, window = window_events(engine, args.since, monitor)
    reviews = review_section(engine, monitor)
    reference, skipped = read_reference(args.reference_scores)
    holdout, no_holdout = read_holdout(reference)
    performance, classification = performance_section(engine, holdout, params, monitor)
    engine.dispose()
    if no_holdout:
        performance["note"] = no_holdout
    if skipped:
        print(f"monitor: {skipped}")
    scores = reference[SCORE] if reference is not None else None
    drift, snapshot = drift_section(events, scores, skipped, params, monitor)
    settings = asdict(monitor)
    alerts = performance["alerts"] + drift["alerts"] + reviews["alerts"]
    paths.MONITORING.mkdir(parents=True, exist_ok=True)
    parts = {}
    if classification is not None:
        parts[f"Performance réalisée : décisions de {performance['report_period']} (issues connues) face au "
              "jeu de validation"] = classification
    if snapshot is not None:
        parts["Dérive des variables surveillées et des scores"] = snapshot
    table = review_table(reviews)
    write_report(parts, {REVIEW_TITLE: table} if table else None)
    write_json(SUMMARY_FILE, {"status": "alert" if alerts else "ok", "backend": engine.dialect.name,
                              "window": window, "settings": settings, "performance": performance, "drift": drift,
                              "reviews": reviews, "alerts": alerts,
                              "seconds": round(time.perf_counter() - started, 2)})
    print(summary_line(performance, drift, len(events), reviews))
    for line in alerts:
        print(line, file=sys.stderr)
    return 1 if alerts else 0


def summary_line(performance: dict, drift: dict, events: int, reviews: dict) -> str:
    judged = [p for p, r in performance["periods"].items() if r.get("status") == "judged"]
    told = (f"{performance['outcomes']} outcomes for {performance['decisions']} decisions, "
            f"{len(judged)} period(s) judged; {reviews['reviews']} reviews, {reviews['overrides']} overrides")
    if drift["status"] != "judged":
        return f"monitor: {told}; drift: {drift['note']}; nothing compared"
    share = french_number(100 * drift["drifted_share"], 1)
    return (f"monitor: {told}; {events} events, {len(drift['drifted_features'])} of {len(drift['features'])} top "
            f"features drift ({share} %); report in {REPORT_FILE}")


def run_simulate(args: argparse.Namespace, params: dict) -> int:
    rng = np.random.default_rng(params["seed"] if args.seed is None else args.seed)
    scores, skipped = read_reference(args.reference_scores)
    if skipped:
        print(f"simulate: {args.reference_scores} not found; probabilities drawn from a Beta with an 8 % mean")
    reference = pd.read_parquet(paths.APPLICATION_TRAIN)
    rows, probabilities = simulated_clients(reference, args.n, rng, scores)
    events = simulate_events(rows, probabilities, args.drift, rng, decision_threshold(params))
    targets = simulated_targets(np.array([e["probability"] for e in events]), args.performance, rng)
    engine = create_outcome_store()
    written = write_events(engine, events)
    observed = datetime.now(UTC)
    result = store_outcomes(engine, [Outcome(target=int(t), observed_at=observed, request_id=e["request_id"])
                                     for e, t in zip(events, targets, strict=True)])
    engine.dispose()
    print(f"simulate: {written} events ({args.drift}) and {result.stored} outcomes ({args.performance}) written "
          f"to the {engine.dialect.name} event store")
    return 0


def run_outcomes(args: argparse.Namespace) -> int:
    """Store the outcomes of a CSV file: all of them or none; exit 2 naming each refused line."""
    try:
        outcomes = read_outcome_csv(args.file)
        engine = create_outcome_store()
        try:
            result = store_outcomes(engine, outcomes)
        finally:
            engine.dispose()
    except OutcomeError as error:
        print(f"outcomes: nothing stored; {error.describe(lambda i: f'{args.file} line {i + 2}')}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        print(f"outcomes: nothing stored; {error}", file=sys.stderr)
        return 2
    print(f"outcomes: {result.stored} stored, {result.already} already there ({args.file})")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    scores_help = f"parquet with a '{SCORE}' column of reference probabilities (default {paths.REFERENCE_SCORES})"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-scores", type=Path, default=paths.REFERENCE_SCORES, help=scores_help)
    parser.add_argument("--since", type=datetime.fromisoformat,
                        help="judge the drift of the events created since this ISO time (with its zone) instead of "
                             "the latest monitor.window_events")
    commands = parser.add_subparsers(dest="command")
    simulate = commands.add_parser("simulate", help="fill the event store with simulated events and outcomes")
    simulate.add_argument("--reference-scores", type=Path, default=argparse.SUPPRESS, help=scores_help)
    simulate.add_argument("--n", type=int, required=True, help="number of events")
    simulate.add_argument("--drift", choices=["none", "shift"], default="none")
    simulate.add_argument("--performance", choices=["stable", "degraded"], default="stable",
                          help="degraded: defaults stop following the model's drivers for half the clients")
    simulate.add_argument("--seed", type=int, help="default: params.yaml seed")
    outcomes = commands.add_parser("outcomes", help="store loan outcomes from a CSV file")
    outcomes.add_argument("--file", type=Path, required=True,
                          help="CSV with columns request_id or SK_ID_CURR, TARGET (0/1), observed_at (ISO)")
    args = parser.parse_args(argv)
    if args.since is not None and args.since.tzinfo is None:
        parser.error("--since needs a time zone, e.g. 2025-01-31T00:00:00+00:00")
    if args.command == "simulate" and args.n < 1:
        parser.error("--n must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "outcomes":
        return run_outcomes(args)
    params = load_params()
    return run_simulate(args, params) if args.command == "simulate" else run_check(args, params)


if __name__ == "__main__":
    sys.exit(main())
