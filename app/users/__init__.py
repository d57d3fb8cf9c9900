"""People's accounts, applications' keys and the access log, from the command line (``python -m app.users``):
the administrator's side of `credit_scoring.production.accounts` and `credit_scoring.production.accesses`, on the
event store named by ``EVENTS_URL`` (the SQLite file ``events.db`` by default)."""
