"""Grading: scores -> warning levels with thresholds, hysteresis and reasons."""
