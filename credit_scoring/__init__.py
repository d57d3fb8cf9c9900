"""The library of the Home Credit scoring system, shared by the DVC stages and the services, one subpackage per
domain: `common` (paths, params, files, formats), `dataset` (the tables: schema, validation, preparation, the
synthetic generator and the bank database), `features`, `modeling`, `explain`, `governance` (fairness, drift,
model card), `production` (events, outcomes, reviews, performance, the client's letter) and `note`."""
