"""The optional libraries of the `text` extra, imported on first use with a clear error."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from types import ModuleType

from crew.errors import MissingExtraError

INSTALL_HINT = (
    "Install the extra: pip install 'crew[text]' (jieba, snownlp, vaderSentiment, datasketch)."
)


def require(module: str) -> ModuleType:
    """Import `module` from the text extra; MissingExtraError when it is not installed."""
    try:
        loaded = importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"Text analysis needs '{module.split('.')[0]}', which is not installed.",
            hint=INSTALL_HINT,
        ) from None
    if module == "jieba":
        loaded.setLogLevel(logging.WARNING)  # it announces its dictionary on stderr otherwise
    return loaded


def extra_installed() -> bool:
    """True when every library of the text extra can be imported."""
    for name in ("jieba", "vaderSentiment", "datasketch"):
        if importlib.util.find_spec(name) is None:
            return False
    return importlib.util.find_spec("snownlp") is not None


__all__ = ["INSTALL_HINT", "extra_installed", "require"]
