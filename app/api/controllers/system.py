"""The served model: liveness, version, threshold, metrics and the features clients compare on (no key)."""

from __future__ import annotations

from litestar import Controller, get

from app.api.bodies import FeatureInfo, Health, ModelInfo
from app.api.runtime import Scorer


class SystemController(Controller):
    path = "/"

    @get("/health", summary="Liveness and the served model version", sync_to_thread=False)
    def health(self, scorer: Scorer) -> Health:
        return Health(status="ok", model_version=scorer.service.bundle.model_version,
                      clients=len(scorer.service.table))

    @get("/model", summary="The served model: version, decision threshold, holdout metrics, features",
         sync_to_thread=False)
    def model(self, scorer: Scorer) -> ModelInfo:
        bundle = scorer.service.bundle
        metrics = {k: float(v) if isinstance(v, (int, float)) else None
                   for k, v in bundle.info.get("metrics", {}).items()}
        return ModelInfo(model_version=bundle.model_version, threshold=bundle.threshold,
                         cost={k: float(v) for k, v in bundle.info.get("cost", {}).items()}, metrics=metrics,
                         features=bundle.features)

    @get("/features", summary="Features clients can be compared on (labels and units in French)",
         sync_to_thread=False)
    def features(self, scorer: Scorer) -> list[FeatureInfo]:
        return scorer.service.groups.comparable
