"""The monitor's command line: ``python -m app.monitor [check]``, ``outcomes``, ``simulate``."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from app.monitor.checks import SCORE, MonitorSettings, decision_threshold
from app.monitor.sections import (
    REPORT_FILE,
    REVIEW_TITLE,
    SUMMARY_FILE,
    drift_section,
    performance_section,
    read_holdout,
    read_reference,
    review_section,
    review_table,
    window_events,
    write_report,
)
from app.monitor.simulate import simulate_events, simulated_clients, simulated_targets
from credit_scoring.common import paths
from credit_scoring.common.formatting import french_number
from credit_scoring.common.io import write_json
from credit_scoring.common.params import load_params
from credit_scoring.production.events import write_events
from credit_scoring.production.outcomes import (
    Outcome,
    OutcomeError,
    create_outcome_store,
    read_outcome_csv,
    store_outcomes,
)
from credit_scoring.production.reviews import create_review_tables


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
