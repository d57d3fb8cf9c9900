"""The dashboard's only way to the data: the prediction API over HTTP, every failure turned into a French sentence.

The page never imports the model, the features or the stages: everything it shows comes from these calls, so
it runs anywhere the API answers (`API_URL`), with the key of the personal-data routes (`API_KEY`) kept on the
server side of the page.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from app.filters import Filters

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 10.0  # seconds; a relationship manager waits that long at most before being told


class ApiError(Exception):
    """A failed call, already worded for the relationship manager (French, no technical trace)."""


class ScoringApi:
    """Thin typed wrapper over the routes of app/api.py the page uses."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None):
        headers = {"X-API-Key": api_key} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)

    @classmethod
    def from_env(cls) -> ScoringApi:
        timeout = os.environ.get("API_TIMEOUT", str(DEFAULT_TIMEOUT))
        try:
            seconds = float(timeout)
        except ValueError:
            raise SystemExit(f"API_TIMEOUT must be a number of seconds, got {timeout!r}") from None
        return cls(os.environ.get("API_URL", DEFAULT_API_URL), os.environ.get("API_KEY") or None, seconds)

    def _call(self, method: str, path: str, **kwargs) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ApiError(f"Le service de score n'a pas répondu dans les {self.timeout:g} secondes. "
                           "Réessayez dans un instant.") from None
        except httpx.TransportError:
            raise ApiError(f"Le service de score est injoignable ({self.base_url}). Vérifiez qu'il est démarré, "
                           "puis réessayez.") from None
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                raise ApiError("Le service de score a renvoyé une réponse illisible. Réessayez ; si le problème "
                               "persiste, prévenez le support.") from None
        raise ApiError(_failure_sentence(response))

    def health(self) -> dict:
        return self._call("GET", "/health")

    def model(self) -> dict:
        return self._call("GET", "/model")

    def features(self) -> list[dict]:
        return self._call("GET", "/features")

    def clients(self, filters: Filters, limit: int = 50, offset: int = 0) -> dict:
        return self._call("GET", "/clients", params={**filters.query(), "limit": limit, "offset": offset})

    def client(self, client_id: int) -> dict:
        return self._call("GET", f"/clients/{client_id}")

    def explanation(self, client_id: int, top: int = 10) -> dict:
        return self._call("GET", f"/clients/{client_id}/explanation", params={"top": top})

    def similar(self, client_id: int, k: int) -> dict:
        return self._call("GET", f"/clients/{client_id}/similar", params={"k": k})

    def population(self, feature: str, filters: Filters, bins: int = 30) -> dict:
        return self._call("GET", "/population", params={"feature": feature, "bins": bins, **filters.query()})

    def points(self, x: str, y: str, filters: Filters, n: int = 500) -> dict:
        return self._call("GET", "/population/points", params={"x": x, "y": y, "n": n, **filters.query()})

    def predict(self, application: dict) -> dict:
        return self._call("POST", "/predict", json=application)


def _failure_sentence(response: httpx.Response) -> str:
    """What went wrong, for a person: the API's own sentence where it names a wrong value, else the status."""
    try:
        detail = str(response.json().get("detail", "")).strip()
    except (ValueError, AttributeError):
        detail = ""
    status = response.status_code
    if status == 401:
        return ("Le service de score refuse l'accès aux données clients : la clé d'accès du tableau de bord "
                "(API_KEY) est absente ou incorrecte. Prévenez l'administrateur.")
    if status == 404:
        return "Ce client est introuvable : vérifiez l'identifiant saisi." + (f" ({detail})" if detail else "")
    if status == 429:
        wait = response.headers.get("Retry-After")
        later = f" dans {wait} secondes." if wait else " dans un instant."
        return "Trop de demandes en peu de temps : réessayez" + later
    if status in (400, 422):
        return "Valeur refusée par le service de score : " + (detail or "une des valeurs saisies est invalide.")
    if status == 503:
        return ("Le service de score est indisponible pour le moment" + (f" ({detail})" if detail else "")
                + ". Réessayez plus tard ou prévenez l'administrateur.")
    return (f"Le service de score a rencontré une erreur (code {status}). Réessayez ; si le problème persiste, "
            "prévenez le support.")
