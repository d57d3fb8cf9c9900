"""The API's routes as Litestar controllers, one per domain: the served model (`system`), scoring (`scoring`),
one client's data (`clients`), groups of clients (`population`) and loan outcomes (`outcomes`); the last three
need the API key."""

from app.controllers.clients import ClientsController
from app.controllers.outcomes import OutcomesController
from app.controllers.population import PopulationController
from app.controllers.scoring import ScoringController
from app.controllers.system import SystemController

CONTROLLERS = [SystemController, ScoringController, ClientsController, PopulationController, OutcomesController]
