"""Deterministic demo and scale data (`python -m data.demo`)."""
