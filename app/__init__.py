"""The services: the prediction API (`app.api`) and the dashboard (`app.ui`)."""
