"""What the prediction API knows and computes, apart from HTTP: the served model, the known clients, their
scores, explanations, neighbours and the population statistics the dashboard compares them with.

Everything is loaded once at start-up from the pipeline's outputs (`models/champion/`, `models/explain/`,
`data/prepared/`, `data/features/`) and then only read, so request handlers share it across threads without
locks. Scoring goes through the shared feature code (`credit_scoring.features.application_features`) exactly as
training did: the application part is recomputed from the fields a caller sends, the history part is the
client's row of the featurize stage's aggregates (a new client has none: has-history flags 0, aggregates
missing, as in training).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from credit_scoring.bundle import Bundle, load_bundle
from credit_scoring.database import DEFAULT_SCHEMA, Database, masked, plain, typed_rows
from credit_scoring.explain import ExplainConfig, LocalExplanation, load_explain_config, tree_contributions
from credit_scoring.features import (
    APPLICATION,
    BINARY_CATEGORIES,
    HISTORY_FLAGS,
    KEY,
    application_feature_names,
    application_features,
    application_frame,
    history_feature_names,
    history_features,
)
from credit_scoring.features import category_values as _category_values
from credit_scoring.formatting import french_percent
from credit_scoring.labels import APPLICATION_CATEGORIES, BINARY_LABELS, FeatureLabel, feature_labels, value_label
from credit_scoring.schema import HISTORY_TABLES

PROBABILITY = "PROBABILITY"
DECISION = "DECISION"
SCORING_CHUNK = 20_000  # rows scored at once at start-up: bounds memory at full Kaggle volume

# Features a relationship manager can compare clients on, before the model's most important ones.
DESCRIPTIVE = ["AGE_YEARS", "AMT_INCOME_TOTAL", "AMT_CREDIT", "AMT_ANNUITY", "AMT_GOODS_PRICE", "EMPLOYED_YEARS",
               "CREDIT_INCOME_RATIO", "ANNUITY_INCOME_RATIO", "PAYMENT_RATE", "EXT_SOURCE_1", "EXT_SOURCE_2",
               "EXT_SOURCE_3", "CNT_CHILDREN", "CNT_FAM_MEMBERS"]
CATEGORIES = ["NAME_CONTRACT_TYPE", "CODE_GENDER", "NAME_EDUCATION_TYPE", "NAME_INCOME_TYPE", "NAME_FAMILY_STATUS",
              "NAME_HOUSING_TYPE", "OCCUPATION_TYPE"]
TEXT_COLUMNS = [*CATEGORIES, "ORGANIZATION_TYPE"]  # raw category columns the comparison table carries
TOP_MODEL_FEATURES = 12
# Nearest clients are found on these, robust-scaled (amounts on a log scale), a missing value at the median.
SIMILARITY = ["EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3", "AGE_YEARS", "AMT_INCOME_TOTAL", "AMT_CREDIT",
              "AMT_ANNUITY", "EMPLOYED_YEARS", "PAYMENT_RATE"]
LOG_SCALED = {"AMT_INCOME_TOTAL", "AMT_CREDIT", "AMT_ANNUITY"}

# The client sheet: sections of readable fields, each a feature (its label and unit say how to show it) or a
# raw category column of the application.
SECTIONS = {
    "Identité et famille": ["CODE_GENDER", "AGE_YEARS", "NAME_FAMILY_STATUS", "CNT_CHILDREN", "CNT_FAM_MEMBERS",
                            "NAME_EDUCATION_TYPE"],
    "Revenus et crédit demandé": ["NAME_CONTRACT_TYPE", "AMT_INCOME_TOTAL", "NAME_INCOME_TYPE", "AMT_CREDIT",
                                  "AMT_ANNUITY", "AMT_GOODS_PRICE", "CREDIT_INCOME_RATIO", "ANNUITY_INCOME_RATIO",
                                  "PAYMENT_RATE"],
    "Emploi": ["EMPLOYED_YEARS", "OCCUPATION_TYPE", "ORGANIZATION_TYPE"],
    "Logement": ["NAME_HOUSING_TYPE", "FLAG_OWN_REALTY_Y", "FLAG_OWN_CAR_Y", "OWN_CAR_AGE", "REGION_RATING_CLIENT"],
    "Historique de crédit": ["EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3", "BURO_COUNT", "ACTIVE_COUNT",
                             "PREV_COUNT", "APPROVED_COUNT", "REFUSED_COUNT"],
}
PENSIONER_TEXT = "sans emploi salarié déclaré (retraité ou sans activité)"


class UnknownClient(LookupError):
    """No client with this SK_ID_CURR among the known ones; its text is the API's 404 detail."""

    def __str__(self) -> str:
        return f"Client inconnu : SK_ID_CURR={self.args[0]}"


@dataclass(frozen=True)
class Filters:
    """A group of clients, as the dashboard narrows it; every criterion is optional."""

    contract_type: str | None = None
    gender: str | None = None
    age_min: float | None = None
    age_max: float | None = None
    income_min: float | None = None
    income_max: float | None = None
    decision: str | None = None
    ids: tuple[int, ...] | None = None


def _finite(value) -> float | None:
    """A JSON-safe number: None for missing or infinite values."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _robust_scaled(frame: pd.DataFrame) -> np.ndarray:
    """Columns centred on their median and divided by their interquartile range; missing values at the median."""
    values = frame.copy()
    for column in LOG_SCALED & set(values.columns):
        values[column] = np.log1p(values[column].clip(lower=0))
    median = values.median()
    spread = (values.quantile(0.75) - values.quantile(0.25)).replace(0, 1.0).fillna(1.0)
    return ((values - median) / spread).fillna(0.0).to_numpy("float64")


class ScoringService:
    """The served model and the known clients, loaded once; every method is a pure read."""

    def __init__(self, bundle: Bundle, explain: ExplainConfig, applications: pd.DataFrame, history: pd.DataFrame,
                 datasets: pd.Series) -> None:
        self.bundle = bundle
        self.explain = explain
        self.labels: dict[str, FeatureLabel] = {**feature_labels(), **explain.labels}
        self.history_columns = history_feature_names()
        missing = [f for f in bundle.features if f not in set(application_feature_names()) | set(self.history_columns)]
        if missing:
            raise ValueError(f"the bundle expects features the serving code does not build: {missing[:5]}")
        self.applications = applications  # indexed by SK_ID_CURR, the application table's columns
        # The same rows as two NumPy matrices (numbers, texts): a pandas row lookup costs ~0.3 ms per request.
        self._app_position = pd.Series(np.arange(len(applications)), index=applications.index)
        self._text_columns = [c.name for c in APPLICATION.columns if c.kind == "category"]
        self._number_columns = [c.name for c in APPLICATION.columns if c.kind != "category"]
        self._texts = applications[self._text_columns].to_numpy(dtype=object, na_value=None)
        self._numbers = applications[self._number_columns].to_numpy(dtype="float64", na_value=np.nan)
        self.datasets = datasets  # "train" / "test" per client
        self.history = history[self.history_columns].astype("float32")
        self._history_row = {int(c): i for i, c in enumerate(self.history.index)}
        self._history_matrix = self.history.to_numpy()
        self._feature_index = pd.Index(bundle.features, dtype=object)  # plain strings: Arrow ones iterate slowly
        application_names = {name: i for i, name in enumerate(application_feature_names())}
        history_names = {name: i for i, name in enumerate(self.history_columns)}
        served = list(enumerate(bundle.features))
        self._from_application = [i for i, f in served if f in application_names]
        self._application_source = [application_names[f] for i, f in served if f in application_names]
        self._from_history = [i for i, f in served if f not in application_names]
        self._history_source = [history_names[f] for i, f in served if f not in application_names]
        blank = pd.Series(np.nan, index=self.history_columns, dtype="float32")
        blank[list(HISTORY_FLAGS.values())] = 0.0
        self._blank_history = blank.to_numpy()
        self.table = self._comparison_table()
        self.comparable = self._comparable_features()
        self._scaled = _robust_scaled(self.table[SIMILARITY])
        self._neighbours = NearestNeighbors().fit(self._scaled)

    # -- loading --------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, model_dir: str | Path, explain_dir: str | Path, data_dir: str | Path) -> ScoringService:
        data_dir = Path(data_dir)
        bundle = load_bundle(model_dir)
        explain = load_explain_config(explain_dir, bundle)
        frames, histories, datasets = [], [], []
        for dataset in ("train", "test"):
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
        return cls(bundle, explain, applications, pd.concat(histories), pd.concat(datasets))

    @classmethod
    def from_database(cls, model_dir: str | Path, explain_dir: str | Path, url: str,
                      schema: str = DEFAULT_SCHEMA) -> ScoringService:
        """The known clients read from the bank database (`stages.bankdb`), their history aggregated by the
        featurize stage's own code. On PostgreSQL the role must be read-only: a role that may write is refused,
        so that the API never runs as the owner or the loader."""
        bundle = load_bundle(model_dir)
        explain = load_explain_config(explain_dir, bundle)
        with Database(url, schema) as db:
            if db.kind == "postgresql":
                writable = db.frame(
                    "SELECT has_table_privilege(current_user, :table, 'INSERT') OR "
                    "has_table_privilege(current_user, :table, 'UPDATE') AS writable",
                    {"table": f"{schema}.application_train"})
                if bool(writable["writable"].iloc[0]):
                    raise PermissionError(f"the API must read the bank database with a read-only role; "
                                          f"{masked(url)} may write to {schema}.application_train")
            frames = {name: typed_rows(name, db.frame(db.raw_table_sql(name))) for name in HISTORY_TABLES}
            applications, datasets = [], []
            for dataset in ("train", "test"):
                rows = typed_rows(f"application_{dataset}", db.frame(db.raw_table_sql(f"application_{dataset}")))
                applications.append(rows[APPLICATION.column_names].set_index(KEY, drop=False))
                datasets.append(pd.Series(dataset, index=rows[KEY].to_numpy()))
        history = history_features(frames)
        return cls(bundle, explain, pd.concat(applications), history, pd.concat(datasets))

    # -- scoring --------------------------------------------------------------------------------------------
    def stored_application(self, client_id: int) -> dict:
        """The client's application as stored (plain Python values, None when missing; whole numbers as int)."""
        if client_id not in self._app_position.index:
            raise UnknownClient(client_id)
        position = self._app_position[client_id]
        numbers = self._numbers[position].tolist()
        out = dict(zip(self._text_columns, self._texts[position].tolist(), strict=True))
        out.update((k, None if v != v else int(v) if v.is_integer() else v)  # v != v: NaN
                   for k, v in zip(self._number_columns, numbers, strict=True))
        return out

    def merged_application(self, fields: Mapping, client_id: int | None) -> dict:
        """The application scored for a request: the client's stored application (if an id is given) overlaid
        with the fields sent; fields neither sent nor stored are missing."""
        base = self.stored_application(client_id) if client_id is not None else {}
        merged = {**base, **fields}
        merged[KEY] = client_id if client_id is not None else 0
        return merged

    def features(self, applications: list[Mapping], client_ids: list[int | None]) -> np.ndarray:
        """Feature rows of complete applications (as `merged_application` gives), the model's columns in order, as
        float32 (what the model reads). Assembled in NumPy: per request, pandas joins would cost more than scoring."""
        app = application_features(application_frame(applications)).to_numpy()
        rows = [self._history_row.get(c, -1) if c is not None else -1 for c in client_ids]
        history = self._history_matrix[rows]
        history[np.asarray(rows) < 0] = self._blank_history
        matrix = np.empty((len(applications), len(self.bundle.features)), dtype="float32")
        matrix[:, self._from_application] = app[:, self._application_source]
        matrix[:, self._from_history] = history[:, self._history_source]
        return matrix

    def probabilities(self, applications: list[Mapping], client_ids: list[int | None]) -> np.ndarray:
        return self.bundle.probability_matrix(self.features(applications, client_ids))

    def decision(self, probability: float) -> str:
        return self.bundle.decision(probability)

    # -- the known clients, scored once ---------------------------------------------------------------------
    def _comparison_table(self) -> pd.DataFrame:
        """One row per known client: the comparable features, raw categories, score and decision."""
        ids = self.applications.index.to_numpy()
        blocks = []
        importance = [g["feature"] for g in self.explain.global_importance]
        wanted = list(dict.fromkeys(DESCRIPTIVE + SIMILARITY + importance[:TOP_MODEL_FEATURES]
                                    + [s for fields in SECTIONS.values() for s in fields]))
        for start in range(0, len(ids), SCORING_CHUNK):
            chunk = ids[start:start + SCORING_CHUNK]
            apps = self.applications.loc[chunk]
            app_features = application_features(apps)
            history = self.history.reindex(chunk)
            known = history.index.isin(self.history.index)
            history.loc[~known, :] = self._blank_history
            features = pd.concat([app_features, history.set_axis(app_features.index)], axis=1)
            block = features[[w for w in wanted if w in features.columns]].copy()
            block[PROBABILITY] = self.bundle.probability(features)
            blocks.append(block)
        table = pd.concat(blocks)
        for column in TEXT_COLUMNS:
            table[column] = self.applications[column].to_numpy(dtype=object)
        table[DECISION] = np.where(table[PROBABILITY] >= self.bundle.threshold, "refusé", "accordé")
        return table

    def _comparable_features(self) -> list[dict]:
        importance = [g["feature"] for g in self.explain.global_importance]
        names = list(dict.fromkeys(DESCRIPTIVE + importance[:TOP_MODEL_FEATURES]))
        numbers = [{"name": n, "label": self.labels[n].label, "unit": self.labels[n].unit, "kind": "number"}
                   for n in names if n in self.table.columns and self.labels[n].unit != "flag"]
        numbers.append({"name": PROBABILITY, "label": "Risque de défaut estimé", "unit": "share", "kind": "number"})
        categories = [{"name": c, "label": self.category_label(c), "unit": "category", "kind": "category",
                       "categories": [{"value": v, "label": self.category_text(c, v)} for v in self.category_values(c)]}
                      for c in CATEGORIES]
        return numbers + categories

    # -- words ----------------------------------------------------------------------------------------------
    @staticmethod
    def category_label(column: str) -> str:
        if column in BINARY_LABELS:
            return "Sexe" if column == "CODE_GENDER" else BINARY_LABELS[column][0]
        return APPLICATION_CATEGORIES[column]

    @staticmethod
    def category_values(column: str) -> list[str]:
        return [v for v in _category_values("application_train", column) if v is not None]

    @staticmethod
    def category_text(column: str, value) -> str:
        if value is None:
            return "non renseigné"
        if column == "CODE_GENDER":
            return {"M": "Homme", "F": "Femme"}.get(value, "non précisé")
        if column in BINARY_CATEGORIES:
            return "oui" if value == BINARY_CATEGORIES[column][0] else "non"
        text = value_label(value)
        return text[:1].upper() + text[1:]

    def display(self, name: str, value) -> str:
        """A value as the client sheet shows it, in French with its unit."""
        if name in TEXT_COLUMNS:
            return self.category_text(name, value)
        if name == PROBABILITY:
            return "non renseigné" if value is None else french_percent(value, 1)
        return self.labels[name].value_text(np.nan if value is None else value)

    def feature_label(self, name: str) -> str:
        if name == PROBABILITY:
            return "Risque de défaut estimé"
        if name in TEXT_COLUMNS:
            return self.category_label(name)
        return self.labels[name].label

    # -- one client -----------------------------------------------------------------------------------------
    def row(self, client_id: int) -> pd.Series:
        if client_id not in self.table.index:
            raise UnknownClient(client_id)
        return self.table.loc[client_id]

    def score(self, client_id: int) -> float:
        return float(self.row(client_id)[PROBABILITY])

    def values(self, row: pd.Series) -> dict:
        out = {}
        for feature in self.comparable:
            value = row[feature["name"]]
            out[feature["name"]] = plain(value) if feature["kind"] == "category" else _finite(value)
        return out

    def client_sheet(self, client_id: int) -> dict:
        row = self.row(client_id)
        pensioner = self.applications.loc[client_id, "DAYS_EMPLOYED"] == 365243
        sections = []
        for title, names in SECTIONS.items():
            fields = []
            for name in names:
                value = row[name]
                value = plain(value) if isinstance(value, str) or value is None else _finite(value)
                shown = PENSIONER_TEXT if name == "EMPLOYED_YEARS" and pensioner else self.display(name, value)
                fields.append({"name": name, "label": self.feature_label(name), "value": value, "display": shown})
            sections.append({"title": title, "fields": fields})
        return {"sk_id_curr": int(client_id), "dataset": str(self.datasets.loc[client_id]), "sections": sections,
                "values": self.values(row)}

    def explanations(self, applications: list[Mapping], client_ids: list[int], top: int) -> list[dict]:
        """Explanations of complete applications: local contributions in one pass of the trees for all rows, then
        each row's reason codes and its `top` largest contributions with their French labels."""
        matrix = self.features(applications, client_ids)
        contributions, base = tree_contributions(self.bundle)(matrix)
        return [self._explained(LocalExplanation(
            values=pd.Series(matrix[i].astype("float64"), index=self._feature_index),
            contributions=pd.Series(contributions[i], index=self._feature_index),
            base_value=float(base[i]), raw_score=float(contributions[i].sum() + base[i]),
        ), top) for i in range(len(matrix))]

    def explanation(self, application: Mapping, client_id: int, top: int) -> dict:
        return self.explanations([application], [client_id], top)[0]

    def _explained(self, explained: LocalExplanation, top: int) -> dict:
        contributions = explained.contributions
        order = contributions.abs().sort_values(ascending=False, kind="stable").index[:top]
        reasons = [*self.explain.reasons(explained, raising=True), *self.explain.reasons(explained, raising=False)]
        return {
            "probability": explained.probability,
            "base_value": explained.base_value,
            "reasons": [{"text": r.text, "direction": "hausse" if r.contribution > 0 else "baisse",
                         "contribution": r.contribution, "feature": r.feature} for r in reasons],
            "contributions": [{"feature": f, "label": self.labels[f].label,
                               "display": self.labels[f].value_text(explained.values[f]),
                               "contribution": float(contributions[f])} for f in order],
        }

    def similar(self, client_id: int, k: int) -> list[tuple[int, float]]:
        position = self.table.index.get_loc(self.row(client_id).name)
        point = self._scaled[position:position + 1]
        distances, indices = self._neighbours.kneighbors(point, n_neighbors=min(k + 1, len(self.table)))
        pairs = [(int(self.table.index[i]), float(d)) for d, i in zip(distances[0], indices[0])
                 if self.table.index[i] != client_id]
        return pairs[:k]

    # -- groups of clients ----------------------------------------------------------------------------------
    def mask(self, filters: Filters) -> np.ndarray:
        t = self.table
        keep = np.ones(len(t), dtype=bool)
        if filters.contract_type is not None:
            keep &= (t["NAME_CONTRACT_TYPE"] == filters.contract_type).to_numpy()
        if filters.gender is not None:
            keep &= (t["CODE_GENDER"] == filters.gender).to_numpy()
        if filters.decision is not None:
            keep &= (t[DECISION] == filters.decision).to_numpy()
        bounds = [("AGE_YEARS", filters.age_min, filters.age_max),
                  ("AMT_INCOME_TOTAL", filters.income_min, filters.income_max)]
        for column, low, high in bounds:
            values = t[column].to_numpy()
            if low is not None:
                keep &= values >= low
            if high is not None:
                keep &= values <= high
        if filters.ids is not None:
            keep &= t.index.isin(list(filters.ids))
        return keep

    def client_list(self, filters: Filters, limit: int, offset: int) -> tuple[int, list[dict]]:
        group = self.table[self.mask(filters)].sort_index()
        page = group.iloc[offset:offset + limit]
        clients = [{
            "sk_id_curr": int(i),
            "contract_type": self.category_text("NAME_CONTRACT_TYPE", r["NAME_CONTRACT_TYPE"]),
            "gender": self.category_text("CODE_GENDER", r["CODE_GENDER"]),
            "age_years": _finite(r["AGE_YEARS"]),
            "income": _finite(r["AMT_INCOME_TOTAL"]),
            "credit": _finite(r["AMT_CREDIT"]),
            "probability": float(r[PROBABILITY]),
            "decision": r[DECISION],
        } for i, r in page.iterrows()]
        return len(group), clients

    def feature_info(self, name: str) -> dict:
        for feature in self.comparable:
            if feature["name"] == name:
                return feature
        raise KeyError(name)

    def population(self, name: str, filters: Filters, bins: int) -> dict:
        info = self.feature_info(name)
        column = self.table.loc[self.mask(filters), name]
        out = {"feature": name, "label": info["label"], "unit": info["unit"], "n": int(len(column)),
               "n_missing": int(column.isna().sum())}
        if info["kind"] == "category":
            counts = column.value_counts()
            out["categories"] = [{"value": c["value"], "label": c["label"], "count": int(counts.get(c["value"], 0))}
                                 for c in info["categories"]]
            return out
        values = column.dropna().to_numpy("float64")
        values = values[np.isfinite(values)]
        if len(values) == 0:
            return {**out, "mean": None, "median": None, "quantiles": None, "histogram": None}
        quantiles = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
        low, high = np.quantile(values, [0.005, 0.995]) if len(values) > 200 else (values.min(), values.max())
        if low == high:
            low, high = low - 0.5, high + 0.5
        counts, edges = np.histogram(np.clip(values, low, high), bins=bins, range=(low, high))
        out.update({
            "mean": float(values.mean()), "median": float(quantiles[2]),
            "quantiles": dict(zip(["p10", "p25", "p50", "p75", "p90"], map(float, quantiles))),
            "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
        })
        if name == PROBABILITY:
            out["share_refused"] = float((values >= self.bundle.threshold).mean())
        return out

    def points(self, x: str, y: str, filters: Filters, n: int) -> list[dict]:
        for name in (x, y):
            if self.feature_info(name)["kind"] != "number":
                raise KeyError(name)
        group = self.table.loc[self.mask(filters), [x, y, DECISION]].dropna()
        group = group[np.isfinite(group[x].astype(float)) & np.isfinite(group[y].astype(float))]
        if len(group) > n:
            group = group.sample(n=n, random_state=0).sort_index()
        return [{"sk_id_curr": int(i), "x": float(r[x]), "y": float(r[y]), "decision": r[DECISION]}
                for i, r in group.iterrows()]
