"""Shared pieces of the Home Credit scoring system, used by the DVC stages and the services alike."""
