"""The prediction API (Litestar): `python -m app.api` runs `app.api.server`; routes by domain in
`controllers`, the logic behind them in `service`, request and response bodies in `bodies`."""
