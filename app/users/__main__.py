"""``python -m app.users``: see `app.users.commands`."""

from __future__ import annotations

import sys

from app.users.commands import main

if __name__ == "__main__":
    sys.exit(main())
