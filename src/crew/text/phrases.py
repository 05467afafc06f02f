"""Key phrases (关键短语) of a text: what a person skimming a queue needs to see.

Chinese: words from jieba, weighted by TF-IDF with the IDF table jieba ships
(`jieba/analyse/idf.txt`, read once). English: candidate phrases are runs of words between
stop words and punctuation, scored like RAKE (word degree over frequency). Seed phrases the
topic classifier found come first. Run them on redacted text: phrases are stored and shown.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from crew.text.language import Language, chinese_words

MAX_PHRASES = 5

_EN_STOP = frozenset(
    "a about above after again against all am an and any are as at be because been before "  # noqa: SIM905
    "being below between both but by can could did do does doing down during each few for "
    "from further had has have having he her here hers herself him himself his how i if in "
    "into is it its itself just me more most my myself no nor not now of off on once only "
    "or other our ours ourselves out over own same she should so some such than that the "
    "their theirs them themselves then there these they this those through to too under "
    "until up very was we were what when where which while who whom why will with would you "
    "your yours yourself yourselves i'm i've i'd it's don't didn't doesn't isn't wasn't "
    "can't won't please hi hello dear thanks thank also still yet get got even really since "
    "ago already one two three just us let lets via per".split()
)
_EN_TOKEN = re.compile(r"[a-z0-9][a-z0-9'\-]*|[.,;:!?()\"\[\]]")
_ZH_KEEP = re.compile(r"^[\u4e00-\u9fff]{2,}$|^[a-z]{3,}$")
_ZH_STOP = frozenset(
    "我们 你们 他们 什么 怎么 为什么 这个 那个 一个 已经 还是 但是 因为 "  # noqa: SIM905
    "所以 如果 就是 还有 没有 可以 现在 一下 一直 自己 这样 真的 非常 "
    "请问 谢谢 你好 时候 而且 然后 不是 知道 我要 我想 你们的 我的 一次 "
    "一笔 了解 需要 麻烦".split()
)


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        from crew.text._extra import require

        require("jieba")  # raises MissingExtraError
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "analyse" / "idf.txt"
    table: dict[str, float] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word, _, value = line.strip().rpartition(" ")
            if word:
                table[word] = float(value)
    median = sorted(table.values())[len(table) // 2]
    return table, median


def chinese_phrases(text: str, k: int = MAX_PHRASES) -> list[str]:
    """Top-k words of a Chinese text by TF-IDF."""
    idf, default = _idf()
    counts = Counter(
        w.lower() for w in chinese_words(text) if _ZH_KEEP.match(w.lower()) and w not in _ZH_STOP
    )
    ranked = sorted(counts, key=lambda w: (-counts[w] * idf.get(w, default), w))
    return ranked[:k]


def english_phrases(text: str, k: int = MAX_PHRASES) -> list[str]:
    """Top-k phrases of an English text, RAKE-style.

    >>> english_phrases("I was charged twice for the same order and the refund never came.")
    ['refund never came', 'charged twice', 'order']
    """
    phrases: list[list[str]] = []
    current: list[str] = []
    for token in _EN_TOKEN.findall(text.lower()):
        if token in _EN_STOP or not token[0].isalnum() or token.isdigit():
            if current:
                phrases.append(current)
            current = []
        else:
            current.append(token)
    if current:
        phrases.append(current)
    phrases = [p[:4] for p in phrases if len(" ".join(p)) > 2]
    freq: Counter[str] = Counter()
    degree: Counter[str] = Counter()
    for p in phrases:
        for w in p:
            freq[w] += 1
            degree[w] += len(p)
    scored = {" ".join(p): sum(degree[w] / freq[w] for w in p) for p in phrases}
    # "same" on its own is noise; keep longer phrases first, then the best single words
    ranked = sorted(scored, key=lambda p: (-scored[p], p))
    return [p for p in ranked if p not in {"same", "new", "old"}][:k]


def key_phrases(
    text: str, lang: Language, seeds: tuple[str, ...] = (), k: int = MAX_PHRASES
) -> list[str]:
    """Seed phrases found first, then extracted phrases, without repeats, at most k."""
    extracted = chinese_phrases(text, k) if lang == Language.ZH else english_phrases(text, k)
    out: list[str] = []
    for phrase in (*seeds, *extracted):
        if phrase not in out and not any(phrase in o for o in out):
            out.append(phrase)
    return out[:k]


__all__ = ["MAX_PHRASES", "chinese_phrases", "english_phrases", "key_phrases"]
