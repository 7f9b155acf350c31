"""Benchmarks: print figures for the things that must stay fast (never asserted in tests)."""
