"""The Home Credit tables: the schema as data, the raw CSVs validated against it, the prepared parquet tables
and holdout split (the prepare stage), the synthetic generator that writes the default raw tables (`synthetic`)
and the bank database they can live in (`bank`)."""
