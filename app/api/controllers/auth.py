"""Signing in (OAuth2 password flow, RFC 6749 §4.3): a person's name and password give a short-lived signed
token. Wrong passwords in a row lock the name for a while (`credit_scoring.production.accounts.LoginPolicy`):
an unknown name, a wrong password and a disabled account get one same answer, and a locked name a 429, known or
not, so that the answers never tell which names exist."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.params import Body

from app.api.bodies import LoginForm, Me, TokenAnswer
from app.api.security import Principal, requires
from app.api.store import event_store
from credit_scoring.production import accounts


class AuthController(Controller):
    path = "/auth"

    @post("/token", summary="Sign in: a person's token (OAuth2 password flow)", status_code=200,
          sync_to_thread=True, security=[])
    def token(self, state: State,
              data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> TokenAnswer:
        try:
            user = accounts.authenticate(event_store(state), data.username, data.password, state.settings.login)
        except accounts.Locked as locked:
            raise TooManyRequestsException(
                detail="Trop d'échecs de connexion pour cet identifiant : réessayez plus tard",
                headers={"Retry-After": str(locked.retry_after)}) from None
        except accounts.BadCredentials:
            raise NotAuthorizedException(detail="Identifiant ou mot de passe incorrect",
                                         headers={"WWW-Authenticate": "Bearer"}) from None
        token, lifetime = state.authenticator.issue(user)
        return TokenAnswer(access_token=token, token_type="bearer", expires_in=lifetime, name=user.name,
                           role=user.role)

    @get("/me", summary="Who the credentials belong to, and their rights", sync_to_thread=False,
         **requires(None))
    def me(self, request: Request) -> Me:
        principal: Principal = request.user
        return Me(name=principal.name, kind=principal.kind, role=principal.role, rights=sorted(principal.rights))
