"""Evaluation: thresholds and checks, zones, coverage, the summary, comparisons (no IO)."""
