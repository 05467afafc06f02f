"""Quoting for the SQL the importer writes (identifiers and literals from user files)."""

from __future__ import annotations


def ident(name: str) -> str:
    """A double-quoted SQL identifier.

    >>> print(ident('Order "No" x'))
    "Order ""No"" x"
    """
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A single-quoted SQL string literal.

    >>> literal("O'Brien")
    "'O''Brien'"
    """
    return "'" + value.replace("'", "''") + "'"


__all__ = ["ident", "literal"]
