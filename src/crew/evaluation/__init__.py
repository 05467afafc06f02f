"""Replay history, measure warnings against outcomes, report."""
