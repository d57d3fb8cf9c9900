"""Feature engineering shared by training (the featurize stage) and serving (the API).

One code path for every use: the application table goes through the pure pandas function
`application_features`, the six history tables through DuckDB SQL generated from the compact specs in
`SOURCES` (`history_aggregates`, or `connect`, `build_history` and `aggregates`), and `assemble` joins both. The
batch stage runs it on the full prepared tables. The API runs the same `application_features` on the fields a request
sends (through
`application_frame`) and takes the history half from the stage's aggregates, or from `history_features` over the
bank database's history tables, so a served client gets exactly its training-time vector.

Choices that keep the feature matrix safe and stable:
- the columns never depend on the data seen: one-hot columns come from the schema's fixed category lists
  and aggregate columns from the specs, so `feature_columns()` is known before any row is read;
- names keep only [A-Za-z0-9_], because LightGBM refuses special JSON characters in feature names;
- ids and the target never enter the features; missing history stays missing (NaN) and each history
  table gets a has-history flag (0/1, never missing) so that "no record" and "zero" stay distinct;
- the 365243 "no date" sentinel becomes missing before any arithmetic touches it.
"""
