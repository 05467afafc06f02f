"""Which language a text is written in: English or Chinese (mixed texts count as Chinese
when Chinese carries most of the words)."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from typing import Any

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# A Chinese word is about 1.5 characters long: compare words with words.
_CHARS_PER_WORD = 1.5


class Language(StrEnum):
    """Languages the analysers understand."""

    EN = "en"
    ZH = "zh"


def detect_language(text: str) -> Language:
    """English or Chinese, by the share of Chinese characters against Latin words.

    >>> detect_language("Please cancel my account"), detect_language("我要cancel我的account")
    (<Language.EN: 'en'>, <Language.ZH: 'zh'>)
    >>> detect_language("退款 refund please, thanks")
    <Language.EN: 'en'>
    """
    cjk = len(_CJK.findall(text))
    if cjk == 0:
        return Language.EN
    latin = len(_LATIN_WORD.findall(text))
    return Language.ZH if cjk / _CHARS_PER_WORD > latin else Language.EN


def has_chinese(text: str) -> bool:
    """True when the text holds at least one Chinese character.

    >>> has_chinese("ok 好"), has_chinese("ok")
    (True, False)
    """
    return _CJK.search(text) is not None


@lru_cache(maxsize=4096)
def chinese_words(text: str) -> tuple[str, ...]:
    """jieba's words of a text (cached: sentiment and key phrases both need them)."""
    return tuple(_jieba().lcut(text))


@lru_cache(maxsize=1)
def _jieba() -> Any:
    from crew.text._extra import require

    return require("jieba")


__all__ = ["Language", "chinese_words", "detect_language", "has_chinese"]
