"""Indicators: the declarative catalog (dimension -> indicator), computed point in time."""
