"""Scoring and explaining applications with the served model.

Scoring goes through the shared feature code (`credit_scoring.features.application_features`) exactly as
training did: the application part is recomputed from the fields a caller sends, the history part is the
client's row of the featurize stage's aggregates (a new client has none: has-history flags 0, aggregates
missing, as in training).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from app.api.bodies import Contribution, Explanation, FamilyContribution, Reason
from app.api.service.sources import KnownClients
from credit_scoring.explain.local import ExplainConfig, LocalExplanation, local_explanations
from credit_scoring.explain.recourse import Recourse, recourse
from credit_scoring.features.application import APPLICATION, KEY, application_features, application_frame
from credit_scoring.features.families import FAMILIES
from credit_scoring.features.history_specs import HISTORY_FLAGS, application_feature_names, history_feature_names
from credit_scoring.features.labels import FeatureLabel
from credit_scoring.modeling.bundle import Bundle

COMPILE_CHECK_ROWS = 1_000  # known clients on which a compiled model must give the model's own probabilities


class UnknownClient(LookupError):
    """No client with this SK_ID_CURR among the known ones; its text is the API's 404 detail."""

    def __str__(self) -> str:
        return f"Client inconnu : SK_ID_CURR={self.args[0]}"


class Scoring:
    """The served model over the known clients' stored applications and history rows."""

    def __init__(self, bundle: Bundle, explain: ExplainConfig, clients: KnownClients,
                 labels: Mapping[str, FeatureLabel]) -> None:
        self.bundle = bundle
        self.explain = explain
        self.labels = labels
        self.history_columns = history_feature_names()
        missing = [f for f in bundle.features if f not in set(application_feature_names()) | set(self.history_columns)]
        if missing:
            raise ValueError(f"the bundle expects features the serving code does not build: {missing[:5]}")
        self.applications = applications = clients.applications
        # The same rows as two NumPy matrices (numbers, texts): a pandas row lookup costs ~0.3 ms per request.
        self._app_position = pd.Series(np.arange(len(applications)), index=applications.index)
        self._text_columns = [c.name for c in APPLICATION.columns if c.kind == "category"]
        self._number_columns = [c.name for c in APPLICATION.columns if c.kind != "category"]
        self._texts = applications[self._text_columns].to_numpy(dtype=object, na_value=None)
        self._numbers = applications[self._number_columns].to_numpy(dtype="float64", na_value=np.nan)
        self.history = clients.history[self.history_columns].astype("float32")
        self._history_row = {int(c): i for i, c in enumerate(self.history.index)}
        self._history_matrix = self.history.to_numpy()
        self._place_served_columns()
        blank = pd.Series(np.nan, index=self.history_columns, dtype="float32")
        blank[list(HISTORY_FLAGS.values())] = 0.0
        self._blank_history = blank.to_numpy()
        # A tree ensemble serves through Treelite once it gives the model's probabilities on these rows (see Bundle).
        checked = [int(c) for c in applications.index[:COMPILE_CHECK_ROWS]]
        bundle.compile(lambda: self.features([*(self.merged_application({}, c) for c in checked),
                                              self.merged_application({}, None)], [*checked, None]))

    def _place_served_columns(self) -> None:
        """Where each of the model's columns comes from: the application features or the history ones."""
        application_names = {name: i for i, name in enumerate(application_feature_names())}
        history_names = {name: i for i, name in enumerate(self.history_columns)}
        served = list(enumerate(self.bundle.features))
        self._from_application = [i for i, f in served if f in application_names]
        self._application_source = [application_names[f] for i, f in served if f in application_names]
        self._from_history = [i for i, f in served if f not in application_names]
        self._history_source = [history_names[f] for i, f in served if f not in application_names]

    def stored_application(self, client_id: int) -> dict:
        """The client's application as stored (plain Python values, None when missing; whole numbers as int)."""
        if client_id not in self._app_position.index:
            raise UnknownClient(client_id)
        position = self._app_position[client_id]
        numbers = self._numbers[position].tolist()
        out = dict(zip(self._text_columns, self._texts[position].tolist(), strict=True))
        out.update((k, None if math.isnan(v) else int(v) if v.is_integer() else v)
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

    def known_features(self, client_ids: np.ndarray) -> pd.DataFrame:
        """Every feature of known clients (application then history columns), through the batch code path."""
        app_features = application_features(self.applications.loc[client_ids])
        history = self.history.reindex(client_ids)
        known = history.index.isin(self.history.index)
        history.loc[~known, :] = self._blank_history
        return pd.concat([app_features, history.set_axis(app_features.index)], axis=1)

    def probabilities(self, applications: list[Mapping], client_ids: list[int | None]) -> np.ndarray:
        return self.bundle.probability_matrix(self.features(applications, client_ids))

    def recourse(self, application: Mapping, client_id: int | None) -> Recourse:
        """What would change the decision on a complete application (`credit_scoring.explain.recourse`), every candidate
        scored by `probabilities`, the normal path, with the client's own history."""
        def score(candidates: list[dict]) -> np.ndarray:
            return self.probabilities(candidates, [client_id] * len(candidates))

        return recourse(application, score, self.bundle.threshold, self.explain.recourse)

    def explanations(self, applications: list[Mapping], client_ids: list[int], top: int) -> list[Explanation]:
        """Explanations of complete applications: local contributions in one pass of the trees for all rows, then
        each row's reason codes and its `top` largest contributions with their French labels."""
        explained = local_explanations(self.bundle, self.features(applications, client_ids))
        return [self._explanation(client_id, e, top) for client_id, e in zip(client_ids, explained, strict=True)]

    def _explanation(self, client_id: int, explained: LocalExplanation, top: int) -> Explanation:
        contributions = explained.contributions
        order = contributions.abs().sort_values(ascending=False, kind="stable").index[:top]
        sums = self.explain.families(explained)  # once: both lists of reasons and the families read it
        reasons = [*self.explain.reasons(explained, True, sums), *self.explain.reasons(explained, False, sums)]
        probability = explained.probability
        return Explanation(
            sk_id_curr=client_id, probability=probability, decision=self.bundle.decision(probability),
            threshold=self.bundle.threshold, model_version=self.bundle.model_version,
            base_value=explained.base_value,
            reasons=[Reason(text=r.text, direction="hausse" if r.contribution > 0 else "baisse",
                            contribution=r.contribution, feature=r.feature, family=r.family,
                            family_label=r.family_label) for r in reasons],
            families=[FamilyContribution(family=family, label=FAMILIES[family], contribution=float(value))
                      for family, value in sums.items()],
            contributions=[Contribution(feature=f, label=self.labels[f].label,
                                        display=self.labels[f].value_text(explained.values[f]),
                                        contribution=float(contributions[f])) for f in order],
        )
