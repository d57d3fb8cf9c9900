"""What every domain shares and nothing domain-specific: where files live (`paths`), params.yaml (`params`),
files written whole (`io`), French numbers (`formatting`), the figures' look (`style`), report tables,
MLflow conventions (`tracking`), progress lines, and DuckDB helpers (`sql`, `duckdb_workers`)."""
