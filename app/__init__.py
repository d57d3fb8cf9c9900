"""The services, each deployable alone: the prediction API (`app.api`), the page for relationship managers
(`app.ui`, which speaks only HTTP to the API) and the production monitor (`app.monitor`); `app.filters` is the
filter struct the API and the page share."""
