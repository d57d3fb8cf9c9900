"""Who is using the page: the French sign-in form shown first, the signed-in person's token kept on the page's
server side (by Gradio session, never sent to the browser), and the guard every handler runs behind (`Gate.safe`):
the calls it makes carry that person's token, and an expired session returns to the form with a French message.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from app.ui.api_client import SIGNED_OUT, ApiError, ScoringApi, SignedOut, signed_in_as
from app.ui.content import alert

log = logging.getLogger("app.ui")
ROLE_WORDS = {"advisor": "chargé·e de relation client", "reviewer": "chargé·e de relation client, réviseur·e",
              "risk": "équipe risque", "admin": "administrateur·rice"}
EXPIRY_MARGIN = 30.0  # seconds: a token this close to its end is treated as ended (the next call could fail)
UNEXPECTED = ("Une erreur inattendue est survenue dans le tableau de bord. Réessayez ; si le problème persiste, "
              "prévenez le support.")


def worded(handler: Callable, message: gr.HTML, *args):
    """The handler's outputs, or its failure as a French message in the page: an API failure in its own words, any
    unexpected error as a plain sentence (logged). An ended session (SignedOut) is left to the caller."""
    try:
        return handler(*args)
    except SignedOut:
        raise
    except ApiError as e:
        log.warning("API call failed: %s", e)
        return {message: alert(str(e))}
    except Exception:
        log.exception("dashboard handler %s failed", getattr(handler, "__name__", "?"))
        return {message: alert(UNEXPECTED)}


@dataclass(frozen=True)
class Session:
    name: str
    role: str
    rights: frozenset[str]
    token: str
    ends: float  # time.monotonic() when the token ends

    def alive(self) -> bool:
        return time.monotonic() < self.ends - EXPIRY_MARGIN


class Sessions:
    """The signed-in person of each Gradio session (by its session hash), on the page's server only."""

    def __init__(self) -> None:
        self._by_hash: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, request: gr.Request | None) -> Session | None:
        with self._lock:
            return self._by_hash.get(getattr(request, "session_hash", None) or "")

    def put(self, request: gr.Request, session: Session) -> None:
        with self._lock:
            self._by_hash[request.session_hash] = session

    def drop(self, request: gr.Request | None) -> None:
        with self._lock:
            self._by_hash.pop(getattr(request, "session_hash", None) or "", None)


class Gate:
    """The sign-in form, the signed-in banner and the guard of the handlers."""

    def __init__(self, api: ScoringApi) -> None:
        self.api = api
        self.sessions = Sessions()

    # ---- layout ----------------------------------------------------------------------------------------
    def login_form(self) -> None:
        with gr.Column(visible=True, elem_id="login") as self.login_area:
            gr.Markdown("## Connexion\nCette page montre des données personnelles de clients\u00a0: connectez-vous "
                        "avec votre identifiant personnel. Chaque consultation d'un dossier est enregistrée à votre "
                        "nom.")
            self.name = gr.Textbox(label="Identifiant", max_lines=1, elem_id="login-name", autofocus=True)
            self.password = gr.Textbox(label="Mot de passe", type="password", max_lines=1, elem_id="login-password")
            self.sign_in_button = gr.Button("Se connecter", variant="primary", elem_id="sign-in", min_width=180)
            self.login_message = gr.HTML("", elem_id="login-message")

    def banner(self) -> None:
        with gr.Row():
            self.who = gr.Markdown("", elem_id="signed-in-as")
            self.sign_out_button = gr.Button("Se déconnecter", elem_id="sign-out", min_width=160, scale=0)

    def attach(self, main_area: gr.Column, review_area: gr.Column, cleared: dict) -> None:
        """The parts a sign-in shows or hides; `cleared`: what a sign-out resets (the last client's data)."""
        self.main_area, self.review_area, self.cleared = main_area, review_area, cleared
        self.outputs = [self.login_area, self.main_area, self.login_message, self.password]

    # ---- handlers --------------------------------------------------------------------------------------
    def signed_out(self, message: str) -> dict:
        """The form again, with `message`; the client shown before is forgotten."""
        return {self.login_area: gr.update(visible=True), self.main_area: gr.update(visible=False),
                self.login_message: message, self.password: "", **self.cleared}

    def sign_in(self, name: str, password: str, request: gr.Request) -> dict:
        name = (name or "").strip()
        if not name or not password:
            return {self.login_message: alert("Saisissez votre identifiant et votre mot de passe."),
                    self.password: ""}
        try:
            answer = self.api.sign_in(name, password)
        except ApiError as error:
            return {self.login_message: alert(str(error)), self.password: ""}
        rights = frozenset(answer["rights"])
        words = ROLE_WORDS.get(answer["role"], answer["role"])
        if "clients" not in rights:
            refused = (f"Votre rôle ({words}) ne donne pas accès aux dossiers des clients\u00a0: cette page est "
                       "réservée aux chargés de relation client.")
            return {self.login_message: alert(refused), self.password: ""}
        self.sessions.put(request, Session(answer["name"], answer["role"], rights, answer["access_token"],
                                           time.monotonic() + float(answer["expires_in"])))
        log.info("%s signed in on the page", answer["name"])
        return {self.login_area: gr.update(visible=False), self.main_area: gr.update(visible=True),
                self.login_message: "", self.password: "",
                self.who: f"Connecté·e\u00a0: **{html.escape(answer['name'])}** ({words})",
                self.review_area: gr.update(visible="reviews" in rights)}

    def sign_out(self, request: gr.Request) -> dict:
        self.sessions.drop(request)
        return self.signed_out('<p role="status">Vous êtes déconnecté·e.</p>')

    def forget(self, request: gr.Request) -> None:
        """The page closed: its session's token is dropped."""
        self.sessions.drop(request)

    def safe(self, handler: Callable, message: gr.HTML) -> Callable:
        """The handler run as the signed-in person (their token on every API call); an ended session returns to the
        form, an API failure or any unexpected error becomes a French message in the page."""

        def run(request: gr.Request, *args):
            session = self.sessions.get(request)
            if session is None or not session.alive():
                self.sessions.drop(request)
                return self.signed_out(alert(SIGNED_OUT))
            try:
                with signed_in_as(session.token):
                    return worded(handler, message, *args)
            except SignedOut:
                self.sessions.drop(request)
                return self.signed_out(alert(SIGNED_OUT))

        run.__name__ = getattr(handler, "__name__", "handler")
        return run
