"""``python -m app.api``: the prediction API under uvicorn (see `app.api.server.main`)."""

from app.api.server import main

main()
