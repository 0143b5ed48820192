"""Calibration to published targets, runs over the posterior, sensitivity and held-out validation."""
