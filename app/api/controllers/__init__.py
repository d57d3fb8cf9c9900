"""The API's routes as Litestar controllers, one per domain: the served model (`system`), scoring (`scoring`),
one client's data (`clients`), groups of clients (`population`), loan outcomes (`outcomes`), what would change
a decision and the client's letter (`recourse`), people's reviews of the model's decisions (`reviews`), and
signing in (`auth`). Each route declares the right it needs (`app.api.security.requires`)."""

from app.api.controllers.auth import AuthController
from app.api.controllers.clients import ClientsController
from app.api.controllers.outcomes import OutcomesController
from app.api.controllers.population import PopulationController
from app.api.controllers.recourse import RecourseController
from app.api.controllers.reviews import ReviewsController
from app.api.controllers.scoring import ScoringController
from app.api.controllers.system import SystemController

CONTROLLERS = [SystemController, ScoringController, ClientsController, PopulationController, OutcomesController,
               RecourseController, ReviewsController, AuthController]
