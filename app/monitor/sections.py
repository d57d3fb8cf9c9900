"""The monitoring report's sections: performance, drift and human reviews, as evidently
snapshots and HTML tables."""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path

import pandas as pd

from app.monitor.checks import SCORE, MonitorSettings, check, client_history, event_features, watched_names
from credit_scoring.common import paths
from credit_scoring.common.formatting import french_percent
from credit_scoring.features.families import FAMILIES, family_of
from credit_scoring.governance.stability import (  # lets evidently import under pandas 3 (see classification_report)
    DriftSettings,
    Snapshot,
    sample,
    without_sentinels,
)
from credit_scoring.production import performance as perf
from credit_scoring.production.events import read_events
from credit_scoring.production.outcomes import (
    read_decisions,
    read_outcomes,
)
from credit_scoring.production.reviews import override_rates, review_alerts, reviews_frame

REPORT_FILE = paths.MONITORING / "monitoring.html"
SUMMARY_FILE = paths.MONITORING / "monitoring.json"


REVIEW_TITLE = "Révisions humaines\u00a0: décisions du modèle infirmées par période de révision"
CLASSIFICATION_ROWS = 20_000  # holdout clients evidently's classification report compares with (seeded sample)


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
    from evidently import BinaryClassification, DataDefinition, Dataset, Report  # after credit_scoring.governance.drift
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
    return f"{where} la bande [{french_percent(low, 1)}\u00a0; {french_percent(high, 1)}]"


def review_table(section: dict) -> str | None:
    """The override rates per period as an HTML table in French, or None without any review."""
    if not section["periods"]:
        return None
    head = "".join(f"<th>{h}</th>" for h in ("Période", "Révisions", "Décisions infirmées", "dont refus infirmés",
                                              "Taux d\u2019infirmation", "Appréciation"))
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{r['reviews']}</td><td>{r['overrides']}</td>"
        f"<td>{r['refusals_overridden']}</td><td>{french_percent(r['override_rate'], 1)}</td>"
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
    named = {"watched_features": watched,  # and what information each is about, as the reasons name it
             "watched_families": {feature: FAMILIES[family_of(feature)] for feature in watched}}
    if len(events) < monitor.min_events:
        note = f"only {len(events)} events in the window, fewer than monitor.min_events = {monitor.min_events}"
        return {"status": "not_enough_events", **named, "note": note, "alerts": []}, None
    current = event_features(events, watched, client_history(watched))
    reference = without_sentinels(pd.read_parquet(paths.FEATURES_TRAIN, columns=watched))
    summary, snapshot = check(events, current, reference, scores, drift, monitor, params["seed"])
    if skipped:
        summary["scores"] = {"skipped": skipped}
    return {"status": "judged", **named, **summary}, snapshot
