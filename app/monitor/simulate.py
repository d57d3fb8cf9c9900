"""Simulated events and outcomes, to try the monitoring loop without the API."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from app.monitor.checks import SCORE
from credit_scoring.production.events import DECISIONS

# The simulated drift: lower external scores and larger loans, both clearly beyond the train -> test drift.
SHIFTS = {"EXT_SOURCE_2": 0.6, "AMT_CREDIT": 1.6}  # column -> factor
SCORE_SHIFT = 1.0  # shifted clients look riskier: +1 on the logit of their probability
DEFAULT_RATE, BETA_STRENGTH = 0.08, 20.0  # probabilities without reference scores: Beta with an 8 % mean
# The simulated concept drift: for this share of clients, default follows another client's risk instead of their
# own drivers. Inputs and scores keep their distribution (no drift check can see it) but the ranking weakens.
DEGRADED_SHARE = 0.5


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
