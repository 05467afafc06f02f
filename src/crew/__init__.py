"""CREW - Customer Relationship Early Warning.

Warns a business early, and with reasons, that a customer relationship is going bad.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
