"""``python -m app.ui``: the page on ``PORT`` (default 7860), speaking to ``API_URL``."""

from __future__ import annotations

import logging
import os

from app.ui.api_client import ScoringApi
from app.ui.content import CSS, HEAD
from app.ui.dashboard import build_page, theme


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per API call would drown the warnings
    port = os.environ.get("PORT", "7860")
    if not port.isdigit():
        raise SystemExit(f"PORT must be a port number, got {port!r}")
    api = ScoringApi.from_env()
    build_page(api).launch(server_port=int(port), theme=theme(), css=CSS, head=HEAD, footer_links=[],
                           ssr_mode=False, show_error=False)


if __name__ == "__main__":
    main()
