"""Simulated texts: varied (paraphrases, typos, mixed language), and free of side effects:
whatever the text catalog holds, every other simulated column stays the same."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crew.simulator import SimulationConfig, simulate
from crew.simulator import engine as engine_module
from crew.simulator.texts import TextCatalog, Topic, text_catalog
from crew.simulator.wording import mixed_language, with_typo
from crew.types import Industry

CONFIG = SimulationConfig(customers=300, months=6, industry=Industry.ECOMMERCE, seed=4)
TABLES = ("customers", "transactions", "interactions", "events", "outcomes", "episodes")


def _bare_catalog(industry: Industry) -> TextCatalog:
    """One fixed body per topic and language, the same in every wording."""
    n = len(Topic)
    texts = pa.array([f"t{t}-{lang}" for t in range(n) for lang in (0, 1)], pa.string())
    offset = np.arange(2 * n, dtype=np.int64).reshape(n, 2)
    return TextCatalog(texts, offset, np.ones((n, 2), np.int64), pa.concat_arrays([texts] * 8))


def test_texts_change_no_other_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = simulate(CONFIG, tmp_path / "real")
    monkeypatch.setattr(engine_module, "text_catalog", _bare_catalog)
    bare = simulate(CONFIG, tmp_path / "bare")
    for table in TABLES:
        a, b = pq.read_table(real.files[table]), pq.read_table(bare.files[table])
        assert a.schema == b.schema and a.num_rows == b.num_rows, table
        for column in a.column_names:
            if (table, column) != ("interactions", "text"):
                assert a[column].equals(b[column]), f"{table}.{column}"
    texts = pq.read_table(real.files["interactions"])["text"]
    bare_texts = pq.read_table(bare.files["interactions"])["text"]
    assert texts.null_count == bare_texts.null_count < len(texts)
    assert all(re.search(r"t\d+-[01]", t) for t in bare_texts.drop_null().to_pylist())
    assert not texts.equals(bare_texts)


def _rendered(n: int, chinese: bool) -> list[str]:
    topics = np.array([Topic.BILLING, Topic.CANCELLATION, Topic.INQUIRY] * n, np.int16)
    rows = np.arange(len(topics), dtype=np.int64)
    flags = np.full(len(topics), chinese)
    out = text_catalog(Industry.ECOMMERCE).render(topics, flags, rows % 64, rows)
    return [str(t) for t in out.to_pylist()]


def test_rendered_texts_are_varied() -> None:
    english, chinese = _rendered(2000, False), _rendered(2000, True)
    assert len(set(english)) > 400 and len(set(chinese)) > 400
    mixed = [t for t in chinese if re.search(r"[A-Za-z]{3,}", t)]
    assert 0.1 < len(mixed) / len(chinese) < 0.5  # e.g. "refund三周了还没到账！"
    bodies = set(text_catalog(Industry.ECOMMERCE).texts.to_pylist())
    closers = (" Please fix this.", " Very disappointed.", " Sort it out!", " Not acceptable.")
    plain = [t.removeprefix("Hi, ").removesuffix(c) for t in english for c in closers]
    assert any(p.lower() not in {b.lower() for b in bodies} for p in plain)


def test_fake_reviews_stay_verbatim() -> None:
    catalog = text_catalog(Industry.ECOMMERCE)
    n = 500
    topics = np.full(n, Topic.FAKE_POSITIVE, np.int16)
    rows = np.arange(n, dtype=np.int64)
    out = catalog.render(topics, rows % 2 == 0, np.zeros(n, np.int64), rows).to_pylist()
    assert set(out) == {
        catalog.texts[catalog.offset[Topic.FAKE_POSITIVE, k]].as_py() for k in (0, 1)
    }


def test_typos_and_mixed_language_are_plausible() -> None:
    assert with_typo("Still waiting for my refund", chinese=False) != "Still waiting for my refund"
    assert with_typo("我的账户登录不了", chinese=True) == "我的账户登陆不了"
    assert mixed_language("退款三周了还没到账", chinese=True) == "refund三周了还没到账"
    assert mixed_language("账户密码被改了", chinese=True) == "account password被改了"
    assert mixed_language("Please call me", chinese=False) == "Pls call me"
    for text in ("ok", "好的", "No."):  # nothing to change: unchanged, never broken
        assert with_typo(text, chinese=not text.isascii()) == text
    one_edit = with_typo("Nobody answers my tickets", chinese=False)
    assert abs(len(one_edit) - len("Nobody answers my tickets")) <= 1
