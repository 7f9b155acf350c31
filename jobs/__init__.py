"""Scheduled work: detection, checkpoints, syncs and outbox delivery."""
