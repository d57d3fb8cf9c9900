"""DVC stages: one module per stage, each a thin main() over tested functions."""
