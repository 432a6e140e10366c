"""Prefect tasks: thin wrappers, one per hybridcore step (retries, logging, artifacts)."""
