"""Free text of complaints, chats, tickets and reviews, in English and Chinese, by topic.

The bodies, openers and closers are in `crew/simulator/texts.yaml`. A rendered text is a
body (with a typo, mixed language or lower-cased for some rows, `crew.simulator.wording`)
wrapped in an opener and a closer, all chosen by a hash of (variant, row): no random draw,
so the texts can change without changing any other simulated column.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from crew.simulator.wording import mixed_language, with_typo
from crew.types import Industry


class Topic(IntEnum):
    """What a text is about; the generators pick a topic, the catalog picks the words."""

    INQUIRY = 0
    BILLING = 1
    SERVICE_QUALITY = 2
    PRODUCT_QUALITY = 3
    SERVICE_FAILURE = 4
    PRIVACY = 5
    FRAUD_SECURITY = 6
    CANCELLATION = 7
    REGULATOR = 8
    REVIEW_POSITIVE = 9
    REVIEW_NEUTRAL = 10
    REVIEW_NEGATIVE = 11
    FAKE_POSITIVE = 12
    FAKE_NEGATIVE = 13


_GROUPS = ("complaint", "polite", "review")
_LANGS = ("en", "zh")


@lru_cache(maxsize=1)
def _phrasebook() -> dict[str, Any]:
    """The text banks (`crew/simulator/texts.yaml`)."""
    raw = resources.files("crew.simulator").joinpath("texts.yaml").read_text("utf-8")
    return dict(yaml.safe_load(raw))


def _wrappers(kind: str) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Openers or closers, indexed [lang][group]."""
    book = _phrasebook()[kind]
    return tuple(tuple(tuple(book[lang][g]) for g in _GROUPS) for lang in _LANGS)


# Openers and closers wrap a body so that the same complaint reads differently from one
# customer to the next; reviews and inquiries get milder ones. Index: [lang][group].
_OPENERS = _wrappers("openers")
_CLOSERS = _wrappers("closers")
_COMPLAINT, _POLITE, _REVIEW = 0, 1, 2
_GROUP = np.array(
    [_POLITE, *[_COMPLAINT] * 8, _REVIEW, _REVIEW, _REVIEW, _REVIEW, _REVIEW], dtype=np.int64
)
_FAKE = (12, 13)
_LOWER_SHARE = 0.15
_TYPO_SHARE = 0.12
"""Share of texts (not fake reviews) with a typo."""
_MIXED_SHARE = 0.2
"""Share of texts with mixed Chinese-English (Chinese) or chat abbreviations (English)."""
_FORMS = 4
"""Wordings of each body: as written, with a typo, mixed language, mixed with a typo."""


def _mix(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """A well-spread 64-bit hash of two integer arrays (splitmix64), without an RNG draw."""
    with np.errstate(over="ignore"):
        z = a.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + b.astype(np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


@dataclass(frozen=True)
class TextCatalog:
    """All texts of one industry in one array, addressed by (topic, language, variant)."""

    texts: pa.Array
    offset: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]

    forms: pa.Array
    """Every body in `_FORMS` wordings, each as written then lower-cased (blocks of
    len(texts), block = 2 * form + lower)."""

    def render(
        self,
        topic: npt.NDArray[np.int16],
        chinese: npt.NDArray[np.bool_],
        variant: npt.NDArray[np.int64],
        row: npt.NDArray[np.int64] | None = None,
    ) -> pa.Array:
        """Text of each row; topic -1 gives null.

        With `row` (a per-row number), a body is picked by a hash of (variant, row) and
        wrapped in an opener and a closer; some texts get a typo, some mixed language (or
        chat abbreviations in English), some English ones are lower-cased, so the same
        complaint reads differently. Fake reviews keep their ring's text verbatim.
        """
        safe = np.maximum(topic, 0).astype(np.int64)
        lang = chinese.astype(np.int64)
        fake = np.isin(safe, _FAKE)
        if row is None:
            index = self.offset[safe, lang] + variant % self.count[safe, lang]
            return self.texts.take(pa.array(index, mask=topic < 0))
        h = _mix(variant, row)
        # Lower-cased rows and other wordings read from precomputed blocks of the bank
        # (cheaper than rewriting millions of rendered strings). A second hash picks the
        # wording, so the choices of body, opener and closer are as before.
        lower = (~fake) & (lang == 0) & ((h >> np.uint64(40)) % np.uint64(100) < 100 * _LOWER_SHARE)
        h2 = _mix(h.view(np.int64), np.full(len(h), 0x5EED, dtype=np.int64))
        typo = (~fake) & ((h2 % np.uint64(100)) < 100 * _TYPO_SHARE)
        mixed = (~fake) & (((h2 >> np.uint64(20)) % np.uint64(100)) < 100 * _MIXED_SHARE)
        block = 2 * (typo.astype(np.int64) + 2 * mixed.astype(np.int64)) + lower
        pick = np.where(fake, variant, (h % np.uint64(1 << 20)).astype(np.int64))
        index = self.offset[safe, lang] + pick % self.count[safe, lang] + block * len(self.texts)
        body = self.forms.take(pa.array(index, mask=topic < 0))
        group = _GROUP[safe]
        parts = []
        for bank, shift in ((_OPENER_BANK, 20), (_CLOSER_BANK, 30)):
            k = ((h >> np.uint64(shift)) % np.uint64(1 << 10)).astype(np.int64)
            chosen = bank.starts[lang, group] + k % bank.sizes[lang, group]
            chosen = np.where(fake, 0, chosen + lower * bank.half)
            parts.append(bank.texts.take(pa.array(chosen)))
        return pc.binary_join_element_wise(parts[0], body, parts[1], "")


@dataclass(frozen=True)
class _Bank:
    """Openers or closers, flattened: "" first, then by (language, group), then lower-cased."""

    texts: pa.Array
    starts: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    half: int


def _bank(nested: tuple[tuple[tuple[str, ...], ...], ...]) -> _Bank:
    flat = [""] + [t for by_lang in nested for by_group in by_lang for t in by_group]
    sizes = np.array([[len(g) for g in by_lang] for by_lang in nested], dtype=np.int64)
    starts = 1 + np.concatenate([[0], np.cumsum(sizes.ravel())[:-1]]).reshape(sizes.shape)
    return _Bank(pa.array(flat + [t.lower() for t in flat], pa.string()), starts, sizes, len(flat))


_OPENER_BANK = _bank(_OPENERS)
_CLOSER_BANK = _bank(_CLOSERS)


def text_catalog(industry: Industry) -> TextCatalog:
    """The text catalog of `industry` (generic speaks like e-commerce).

    >>> cat = text_catalog(Industry.TELECOM)
    >>> t = cat.render(np.array([4], np.int16), np.array([False]), np.array([0]))
    >>> t[0].as_py()
    'No network signal for three days.'
    """
    key = Industry.ECOMMERCE if industry == Industry.GENERIC else industry
    book = _phrasebook()
    banks = {Topic[name.upper()]: pair for name, pair in book["common"].items()}
    banks[Topic.SERVICE_FAILURE] = book["service_failure"][key.value]
    banks[Topic.PRODUCT_QUALITY] = book["product_quality"][key.value]
    flat: list[str] = []
    chinese: list[bool] = []
    offset = np.zeros((len(Topic), 2), dtype=np.int64)
    count = np.zeros((len(Topic), 2), dtype=np.int64)
    for topic in Topic:
        for lang, name in enumerate(_LANGS):
            texts = [str(t) for t in banks[topic][name]]
            offset[topic, lang] = len(flat)
            count[topic, lang] = len(texts)
            flat.extend(texts)
            chinese.extend([lang == 1] * len(texts))
    return TextCatalog(pa.array(flat, pa.string()), offset, count, _forms(flat, chinese))


def _forms(texts: list[str], chinese: list[bool]) -> pa.Array:
    """`_FORMS` wordings of every body, each as written then lower-cased."""
    typo = [with_typo(t, zh) for t, zh in zip(texts, chinese, strict=True)]
    mixed = [mixed_language(t, zh) for t, zh in zip(texts, chinese, strict=True)]
    both = [with_typo(t, zh) for t, zh in zip(mixed, chinese, strict=True)]
    blocks = []
    for form in (texts, typo, mixed, both):
        array = pa.array(form, pa.string())
        blocks += [array, pc.utf8_lower(array)]
    assert len(blocks) == 2 * _FORMS
    return pa.concat_arrays(blocks)
