"""Where the served model and the known clients come from: the pipeline's files, or the bank database.

The known clients are their application rows (indexed by SK_ID_CURR), their history aggregates (the featurize
stage's, or computed from the database's history tables by the same code) and the sample each came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from credit_scoring.dataset.bank.database import DEFAULT_SCHEMA, Database, masked, typed_rows
from credit_scoring.dataset.schema import HISTORY_TABLES
from credit_scoring.explain.local import ExplainConfig, load_explain_config
from credit_scoring.features.application import APPLICATION, KEY
from credit_scoring.features.history_engine import history_features
from credit_scoring.features.history_specs import history_feature_names
from credit_scoring.modeling.bundle import Bundle, load_bundle

SAMPLES = ("train", "test")


@dataclass(frozen=True)
class KnownClients:
    applications: pd.DataFrame  # indexed by SK_ID_CURR, the application table's columns
    history: pd.DataFrame  # history features, indexed by SK_ID_CURR (clients without history absent)
    datasets: pd.Series  # "train" / "test" per client


def served_model(model_dir: str | Path, explain_dir: str | Path) -> tuple[Bundle, ExplainConfig]:
    """The champion bundle and the explanation settings written beside it."""
    bundle = load_bundle(model_dir)
    return bundle, load_explain_config(explain_dir, bundle)


def clients_from_files(data_dir: str | Path) -> KnownClients:
    """The clients of the pipeline's prepared applications and featurized history (`data/`)."""
    data_dir = Path(data_dir)
    frames, histories, datasets = [], [], []
    for dataset in SAMPLES:
        app = pd.read_parquet(data_dir / "prepared" / f"application_{dataset}.parquet",
                              columns=APPLICATION.column_names)
        history = pd.read_parquet(data_dir / "features" / f"{dataset}.parquet",
                                  columns=[KEY, *history_feature_names()]).set_index(KEY)
        frames.append(app.set_index(KEY, drop=False))
        histories.append(history)
        datasets.append(pd.Series(dataset, index=app[KEY].to_numpy()))
    applications = pd.concat(frames)
    if not applications.index.is_unique:
        raise ValueError("a client appears in both application_train and application_test")
    return KnownClients(applications, pd.concat(histories), pd.concat(datasets))


def _refuse_writable_role(db: Database, url: str, schema: str) -> None:
    """On PostgreSQL the role must be read-only, so that the API never runs as the owner or the loader."""
    writable = db.frame(
        "SELECT has_table_privilege(current_user, :table, 'INSERT') OR "
        "has_table_privilege(current_user, :table, 'UPDATE') AS writable",
        {"table": f"{schema}.application_train"})
    if bool(writable["writable"].iloc[0]):
        raise PermissionError(f"the API must read the bank database with a read-only role; "
                              f"{masked(url)} may write to {schema}.application_train")


def clients_from_database(url: str, schema: str = DEFAULT_SCHEMA) -> KnownClients:
    """The clients of the bank database (`credit_scoring.dataset.bank`), their history aggregated by the featurize
    stage's own code. A PostgreSQL role that may write is refused."""
    with Database(url, schema) as db:
        if db.kind == "postgresql":
            _refuse_writable_role(db, url, schema)
        frames = {name: typed_rows(name, db.frame(db.raw_table_sql(name))) for name in HISTORY_TABLES}
        applications, datasets = [], []
        for dataset in SAMPLES:
            rows = typed_rows(f"application_{dataset}", db.frame(db.raw_table_sql(f"application_{dataset}")))
            applications.append(rows[APPLICATION.column_names].set_index(KEY, drop=False))
            datasets.append(pd.Series(dataset, index=rows[KEY].to_numpy()))
    return KnownClients(pd.concat(applications), history_features(frames), pd.concat(datasets))
