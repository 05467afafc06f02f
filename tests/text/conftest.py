"""A quick text analyser for the tests: the Chinese model trained on 1,500 corpus texts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crew.text import analyze as analyze_module
from crew.text.analyze import TextAnalyzer, build_analyzer
from crew.text.sentiment import ChineseSentiment, load_chinese_sentiment

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture(scope="session")
def text_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Trained text models go to a session folder, not to ~/.cache."""
    folder = tmp_path_factory.mktemp("text-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CREW_TEXT_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="session")
def small_chinese(text_cache: Path) -> ChineseSentiment:
    return load_chinese_sentiment(limit=1500)


@pytest.fixture(scope="session")
def analyzer(small_chinese: ChineseSentiment) -> TextAnalyzer:
    return build_analyzer(chinese=small_chinese)


@pytest.fixture
def quick_default(
    analyzer: TextAnalyzer, small_chinese: ChineseSentiment, monkeypatch: pytest.MonkeyPatch
) -> TextAnalyzer:
    """`build_analyzer` without a model argument gives the quick model (for CLI tests)."""
    original = analyze_module.load_chinese_sentiment
    monkeypatch.setattr(analyze_module, "load_chinese_sentiment", lambda: small_chinese)
    assert original is not None
    return analyzer
