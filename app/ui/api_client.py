"""The dashboard's only way to the data: the prediction API over HTTP, every failure turned into a French sentence.

The page never imports the model, the features or the stages: everything it shows comes from these calls, so
it runs anywhere the API answers (`API_URL`). It holds no key: every call carries the token of the person signed in
on the page (`signed_in_as`), kept on the page's server side, so the page can do no more than that person's role
allows, and the API's access log names that person.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpx

from app.filters import Filters

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 10.0  # seconds; a relationship manager waits that long at most before being told


UNREADABLE = ("Le service de score a renvoyé une réponse illisible. Réessayez\u00a0; si le problème persiste, "
              "prévenez le support.")
# What a refused review body means for the person who filled the form, by the field the API names.
REVIEW_FIELDS = {
    "action": "choisissez de confirmer ou d'infirmer la décision",
    "reason": ("le motif de la revue est obligatoire, de 3 à 2\u202f000 caractères dont au moins trois qui ne sont "
               "pas des espaces"),
    "request_id": "la décision revue est inconnue pour ce client\u00a0; affichez de nouveau le client, puis réessayez",
}


SIGNED_OUT = "Votre session a expiré ou n'est plus valide\u00a0: reconnectez-vous pour continuer."
_TOKEN: ContextVar[str | None] = ContextVar("token", default=None)


class ApiError(Exception):
    """A failed call, already worded for the relationship manager (French, no technical trace)."""


class SignedOut(ApiError):
    """The API refused the person's token (expired, or the account disabled): they must sign in again."""


@contextmanager
def signed_in_as(token: str | None) -> Iterator[None]:
    """The calls made inside carry this person's token (a context variable: one page serves many people)."""
    reset = _TOKEN.set(token)
    try:
        yield
    finally:
        _TOKEN.reset(reset)


class ScoringApi:
    """Thin typed wrapper over the routes of the API (`app.api`) the page uses."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    @classmethod
    def from_env(cls) -> ScoringApi:
        timeout = os.environ.get("API_TIMEOUT", str(DEFAULT_TIMEOUT))
        try:
            seconds = float(timeout)
        except ValueError:
            raise SystemExit(f"API_TIMEOUT must be a number of seconds, got {timeout!r}") from None
        return cls(os.environ.get("API_URL", DEFAULT_API_URL), seconds)

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """The API's response, whatever its status; ApiError when it does not answer."""
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ApiError(f"Le service de score n'a pas répondu dans les {self.timeout:g} secondes. "
                           "Réessayez dans un instant.") from None
        except httpx.TransportError:
            raise ApiError(f"Le service de score est injoignable ({self.base_url}). Vérifiez qu'il est démarré, "
                           "puis réessayez.") from None

    def _send(self, method: str, path: str, fields: Mapping[str, str] | None = None, **kwargs) -> httpx.Response:
        """The successful response of a call; a failure raises ApiError, worded with `fields` (see
        `_failure_sentence`) when the API names one of them."""
        token = _TOKEN.get()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self._request(method, path, headers=headers, **kwargs)
        if response.status_code == 401 and token:
            raise SignedOut(SIGNED_OUT)
        if not response.is_success:
            raise ApiError(_failure_sentence(response, fields))
        return response

    def _call(self, method: str, path: str, fields: Mapping[str, str] | None = None, **kwargs) -> Any:
        response = self._send(method, path, fields, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ApiError(UNREADABLE) from None

    def sign_in(self, name: str, password: str) -> dict:
        """The person's token (`access_token`, `expires_in` seconds, `role`) and rights (`rights`); ApiError worded
        for a wrong password or a locked name."""
        response = self._request("POST", "/auth/token", data={"username": name, "password": password})
        if response.status_code in (400, 401):
            raise ApiError("Identifiant ou mot de passe incorrect.")
        if response.status_code == 429:
            wait = response.headers.get("Retry-After", "")
            later = f" dans {int(wait) // 60 + 1} minutes" if wait.isdigit() else " plus tard"
            raise ApiError("Trop d'essais de connexion pour cet identifiant\u00a0: votre compte est bloqué pour un "
                           f"moment. Réessayez{later}, ou demandez à l'administrateur de débloquer votre compte.")
        if not response.is_success:
            raise ApiError(_failure_sentence(response))
        try:
            answer = response.json()
            with signed_in_as(answer["access_token"]):
                answer["rights"] = self._call("GET", "/auth/me")["rights"]
        except (ValueError, KeyError, TypeError):
            raise ApiError(UNREADABLE) from None
        return answer

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

    def recourse(self, client_id: int) -> dict:
        """What would change the client's decision (refused) or the client's margin (granted)."""
        return self._call("GET", f"/clients/{client_id}/recourse")

    def letter(self, client_id: int) -> bytes:
        """The letter explaining the decision to the client: a PDF document."""
        response = self._send("GET", f"/clients/{client_id}/letter")
        if not response.content.startswith(b"%PDF"):
            raise ApiError(UNREADABLE)
        return response.content

    def reviews(self, client_id: int) -> dict:
        """The reviews by a person of the client's decisions, newest first."""
        return self._call("GET", f"/clients/{client_id}/reviews")

    def add_review(self, client_id: int, action: str, reason: str, request_id: str | None = None) -> dict:
        """Record the signed-in person's review (`action` confirm or override) of the decision `request_id` served
        for the client (by default the client is scored again and that decision is reviewed); the stored review."""
        body = {"action": action, "reason": reason}
        if request_id:
            body["request_id"] = request_id
        return self._call("POST", f"/clients/{client_id}/reviews", REVIEW_FIELDS, json=body)


def _fields_at_fault(body: dict) -> list[str]:
    """The body fields an API refusal names: its `extra` entries' keys, else the `field: message` of its detail."""
    extra = body.get("extra")
    keys = [item.get("key") for item in extra if isinstance(item, dict)] if isinstance(extra, list) else []
    keys = [key for key in keys if key]
    if not keys:
        head, colon, _ = str(body.get("detail", "")).partition(":")
        keys = [head.strip()] if colon and head.strip().isidentifier() else []
    return keys


def _failure_sentence(response: httpx.Response, fields: Mapping[str, str] | None = None) -> str:
    """What went wrong, for a person: the API's own sentence where it names a wrong value, else the status; a
    field of `fields` the API names is told by its sentence there."""
    try:
        body = response.json()
        detail = str(body.get("detail", "")).strip()
    except (ValueError, AttributeError):
        body, detail = {}, ""
    named = [fields[key] for key in dict.fromkeys(_fields_at_fault(body)) if fields and key in fields]
    if named and response.status_code in (400, 404, 409, 422):
        return "Valeur refusée par le service de score\u00a0: " + "\u00a0; ".join(named) + "."
    status = response.status_code
    if status == 401:
        return SIGNED_OUT
    if status == 403:
        return ("Votre rôle ne permet pas cette action. Si vous en avez besoin, demandez à l'administrateur de "
                "modifier vos droits.")
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
