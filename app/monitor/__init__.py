"""Production monitoring: are the API's decisions still as good as the holdout promised, and do its clients still
look like the clients the model learnt from?

`python -m app.monitor` reads the event store (env EVENTS_URL, default the SQLite file events.db) and:

- joins the loan outcomes (`loan_outcomes`, see `credit_scoring.production.outcomes`) to the served decisions and
  reports, per period of decision (`monitor.period`), the realized default rate among granted loans, AUC, cost per
  client and calibration beside the holdout's expectation with its uncertainty band, and an estimate from the served
  probabilities while outcomes are missing (`credit_scoring.production.performance`);
- compares the latest events' inputs on the model's top features with application_train and the predicted
  probabilities with the champion's reference scores, using our PSI and evidently as the drift stage does;
- reports, per period of review, the share of the decisions reviewed by a person that they overrode
  (`decision_reviews`, see `credit_scoring.production.reviews`);
- writes reports/monitoring/monitoring.html and monitoring.json, and for a scheduler to act on, exits with 1 and
  prints lines starting with `ALERT performance` (realized AUC or cost per client significantly worse than
  expected, one-sided at `monitor.alpha`), `ALERT calibration` (observed default rate outside the band the served
  probabilities predict), `ALERT drift` (a top feature or the scores past `monitor.psi_alert`, or more than
  `monitor.drift_share_alert` of the top features drifting) or `ALERT review` (the latest period with at least
  `monitor.min_reviews` reviews has an override rate outside `monitor.override_band`).

`python -m app.monitor outcomes --file F.csv` stores outcomes (columns request_id or SK_ID_CURR, TARGET,
observed_at). `python -m app.monitor simulate --n N --drift {none,shift} --performance {stable,degraded}` fills
the store with events and their outcomes, to try the loop without the API.
"""
