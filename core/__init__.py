"""Outcomes domain: models, services and integrations (no UI code)."""
