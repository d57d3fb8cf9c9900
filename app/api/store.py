"""The event store's engine for the routes that write beside the prediction events (loan outcomes, decision
reviews, accounts and keys, the access log): opened on first use with their tables, and kept on the app's state."""

from __future__ import annotations

import threading

from litestar.datastructures import State
from sqlalchemy import Engine

from credit_scoring.production.accesses import create_access_table
from credit_scoring.production.accounts import create_account_tables
from credit_scoring.production.outcomes import create_outcome_store
from credit_scoring.production.reviews import create_review_tables

_LOCK = threading.Lock()


def event_store(state: State) -> Engine:
    """The event store's engine (EVENTS_URL) with `loan_outcomes`, `decision_reviews`, the accounts' tables and
    `data_accesses` ready, opened on the first call and kept on the app's state as ``event_store``."""
    engine = state.get("event_store")
    if engine is not None:
        return engine
    with _LOCK:
        engine = state.get("event_store")
        if engine is None:
            engine = create_outcome_store(state.settings.events_url)
            create_review_tables(engine)
            create_account_tables(engine)
            create_access_table(engine)
            state.event_store = engine
    return engine
