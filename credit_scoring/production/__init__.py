"""The model in production: the prediction-event store, loan outcomes, human reviews, realized performance,
and the letter that explains a decision to the client."""
