"""The known clients as a population: every client scored once at start-up, groups narrowed by `Filters`, the
statistics the dashboard compares a client with, and a client's nearest neighbours."""

from __future__ import annotations

import msgspec
import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from app.api.bodies import (
    Category,
    CategoryCount,
    ClientSummary,
    FeatureInfo,
    Histogram,
    Neighbour,
    Point,
    Population,
    Similar,
)
from app.api.service.scoring import Scoring, UnknownClient
from app.api.service.wording import (
    CATEGORIES,
    PROBABILITY,
    PROBABILITY_LABEL,
    SECTIONS,
    TEXT_COLUMNS,
    category_label,
    category_text,
    finite,
    known_categories,
)
from app.filters import Filters
from credit_scoring.dataset.bank.database import plain
from credit_scoring.modeling.bundle import DECISION_GRANTED, DECISION_REFUSED

DECISION = "DECISION"
SCORING_CHUNK = 20_000  # rows scored at once at start-up: bounds memory at full Kaggle volume

# Features a relationship manager can compare clients on, before the model's most important ones.
DESCRIPTIVE = ["AGE_YEARS", "AMT_INCOME_TOTAL", "AMT_CREDIT", "AMT_ANNUITY", "AMT_GOODS_PRICE", "EMPLOYED_YEARS",
               "CREDIT_INCOME_RATIO", "ANNUITY_INCOME_RATIO", "PAYMENT_RATE", "EXT_SOURCE_1", "EXT_SOURCE_2",
               "EXT_SOURCE_3", "CNT_CHILDREN", "CNT_FAM_MEMBERS"]
TOP_MODEL_FEATURES = 12
# Nearest clients are found on these, robust-scaled (amounts on a log scale), a missing value at the median.
SIMILARITY = ["EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3", "AGE_YEARS", "AMT_INCOME_TOTAL", "AMT_CREDIT",
              "AMT_ANNUITY", "EMPLOYED_YEARS", "PAYMENT_RATE"]
LOG_SCALED = {"AMT_INCOME_TOTAL", "AMT_CREDIT", "AMT_ANNUITY"}
QUANTILES = ["p10", "p25", "p50", "p75", "p90"]


def _robust_scaled(frame: pd.DataFrame) -> np.ndarray:
    """Columns centred on their median and divided by their interquartile range; missing values at the median."""
    values = frame.copy()
    for column in LOG_SCALED & set(values.columns):
        values[column] = np.log1p(values[column].clip(lower=0))
    median = values.median()
    spread = (values.quantile(0.75) - values.quantile(0.25)).replace(0, 1.0).fillna(1.0)
    return ((values - median) / spread).fillna(0.0).to_numpy("float64")


def comparison_table(scoring: Scoring) -> pd.DataFrame:
    """One row per known client: the comparable features, raw categories, score and decision."""
    bundle, applications = scoring.bundle, scoring.applications
    ids = applications.index.to_numpy()
    blocks = []
    importance = [g["feature"] for g in scoring.explain.global_importance]
    wanted = list(dict.fromkeys(DESCRIPTIVE + SIMILARITY + importance[:TOP_MODEL_FEATURES]
                                + [s for fields in SECTIONS.values() for s in fields]))
    for start in range(0, len(ids), SCORING_CHUNK):
        features = scoring.known_features(ids[start:start + SCORING_CHUNK])
        block = features[[w for w in wanted if w in features.columns]].copy()
        block[PROBABILITY] = bundle.probability(features)
        blocks.append(block)
    table = pd.concat(blocks)
    for column in TEXT_COLUMNS:
        table[column] = applications[column].to_numpy(dtype=object)
    table[DECISION] = np.where(table[PROBABILITY] >= bundle.threshold, DECISION_REFUSED, DECISION_GRANTED)
    return table


def comparable_features(table: pd.DataFrame, scoring: Scoring) -> list[FeatureInfo]:
    """The features clients can be compared on: descriptive ones, the model's most important, the score, then
    the categories with their values."""
    importance = [g["feature"] for g in scoring.explain.global_importance]
    names = list(dict.fromkeys(DESCRIPTIVE + importance[:TOP_MODEL_FEATURES]))
    labels = scoring.labels
    numbers = [FeatureInfo(name=n, label=labels[n].label, unit=labels[n].unit, kind="number")
               for n in names if n in table.columns and labels[n].unit != "flag"]
    numbers.append(FeatureInfo(name=PROBABILITY, label=PROBABILITY_LABEL, unit="share", kind="number"))
    categories = [FeatureInfo(name=c, label=category_label(c), unit="category", kind="category",
                              categories=[Category(value=v, label=category_text(c, v)) for v in known_categories(c)])
                  for c in CATEGORIES]
    return numbers + categories


def _histogram(values: np.ndarray, bins: int) -> dict:
    """Mean, quantiles and histogram of a number's finite values (the extreme 0.5 % on each side clipped)."""
    quantiles = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
    low, high = np.quantile(values, [0.005, 0.995]) if len(values) > 200 else (values.min(), values.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(np.clip(values, low, high), bins=bins, range=(low, high))
    return {"mean": float(values.mean()), "median": float(quantiles[2]),
            "quantiles": dict(zip(QUANTILES, map(float, quantiles))),
            "histogram": Histogram(edges=[float(e) for e in edges], counts=[int(c) for c in counts])}


class ClientGroups:
    """The scored known clients (`table`), the features they compare on, groups and neighbours."""

    def __init__(self, scoring: Scoring) -> None:
        self.threshold = scoring.bundle.threshold
        self.table = comparison_table(scoring)
        self.comparable = comparable_features(self.table, scoring)
        self._scaled = _robust_scaled(self.table[SIMILARITY])
        self._neighbours = NearestNeighbors().fit(self._scaled)

    def row(self, client_id: int) -> pd.Series:
        if client_id not in self.table.index:
            raise UnknownClient(client_id)
        return self.table.loc[client_id]

    def values(self, row: pd.Series) -> dict[str, float | str | None]:
        """A client's comparable values, JSON-ready."""
        out = {}
        for feature in self.comparable:
            value = row[feature.name]
            out[feature.name] = plain(value) if feature.kind == "category" else finite(value)
        return out

    def feature_info(self, name: str) -> FeatureInfo:
        for feature in self.comparable:
            if feature.name == name:
                return feature
        raise KeyError(name)

    def similar(self, client_id: int, k: int) -> Similar:
        """The k nearest known clients on the `SIMILARITY` features, the client itself left out."""
        position = self.table.index.get_loc(self.row(client_id).name)
        point = self._scaled[position:position + 1]
        distances, indices = self._neighbours.kneighbors(point, n_neighbors=min(k + 1, len(self.table)))
        pairs = [(int(self.table.index[i]), float(d)) for d, i in zip(distances[0], indices[0])
                 if self.table.index[i] != client_id]
        neighbours = []
        for neighbour, distance in pairs[:k]:
            row = self.row(neighbour)
            neighbours.append(Neighbour(sk_id_curr=neighbour, distance=distance, probability=float(row[PROBABILITY]),
                                        decision=row[DECISION], values=self.values(row)))
        return Similar(sk_id_curr=client_id, features=SIMILARITY, neighbors=neighbours)

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

    def client_list(self, filters: Filters, limit: int, offset: int) -> tuple[int, list[ClientSummary]]:
        """How many clients the filters keep, and the page of them from `offset`, by id."""
        group = self.table[self.mask(filters)].sort_index()
        page = group.iloc[offset:offset + limit]
        clients = [ClientSummary(
            sk_id_curr=int(i),
            contract_type=category_text("NAME_CONTRACT_TYPE", r["NAME_CONTRACT_TYPE"]),
            gender=category_text("CODE_GENDER", r["CODE_GENDER"]),
            age_years=finite(r["AGE_YEARS"]),
            income=finite(r["AMT_INCOME_TOTAL"]),
            credit=finite(r["AMT_CREDIT"]),
            probability=float(r[PROBABILITY]),
            decision=r[DECISION],
        ) for i, r in page.iterrows()]
        return len(group), clients

    def population(self, name: str, filters: Filters, bins: int) -> Population:
        """A feature's distribution over a group: counts per category, or quantiles and a histogram."""
        info = self.feature_info(name)
        column = self.table.loc[self.mask(filters), name]
        out = Population(feature=name, label=info.label, unit=info.unit, n=len(column),
                         n_missing=int(column.isna().sum()))
        if info.kind == "category":
            counts = column.value_counts()
            out.categories = [CategoryCount(value=c.value, label=c.label, count=int(counts.get(c.value, 0)))
                              for c in info.categories or []]
            return out
        values = column.dropna().to_numpy("float64")
        values = values[np.isfinite(values)]
        if len(values) == 0:
            return out
        out = msgspec.structs.replace(out, **_histogram(values, bins))
        if name == PROBABILITY:
            out.share_refused = float((values >= self.threshold).mean())
        return out

    def points(self, x: str, y: str, filters: Filters, n: int) -> list[Point]:
        """Up to n clients of a group on two numeric features (a seeded sample, by id)."""
        for name in (x, y):
            if self.feature_info(name).kind != "number":
                raise KeyError(name)
        group = self.table.loc[self.mask(filters), list(dict.fromkeys([x, y, DECISION]))].dropna()  # x may be y
        group = group[np.isfinite(group[x].astype(float)) & np.isfinite(group[y].astype(float))]
        if len(group) > n:
            group = group.sample(n=n, random_state=0).sort_index()
        return [Point(sk_id_curr=int(i), x=float(r[x]), y=float(r[y]), decision=r[DECISION])
                for i, r in group.iterrows()]
