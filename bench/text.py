"""Text benchmark: interaction texts analysed per second (language, sentiment, topic,
urgency, key phrases), the default path (lexicons, the default topic model, the Chinese
linear model).

Texts are drawn from the simulator's e-commerce catalogue (complaints, chats, reviews, in
English and Chinese, with its openers, closers, lower-casing, typos and mixed language).
Three figures:
- one process, batches of 2,000 (`TextAnalyzer.analyze_many`, what `crew text analyze` does);
- one process, one text at a time (`analyze_text`, what a stream worker will do per event);
- two processes, one per core, each analysing half the texts in batches.

Size: CREW_BENCH_TEXTS (default 20,000). Target: 2,000 texts/s on 2 cores.
Run on its own: `python bench/text.py`.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from crew.simulator.texts import Topic, text_catalog
from crew.text.analyze import analyze_text, default_analyzer
from crew.types import Industry

TARGET = 2_000


def bench_texts(n: int, seed: int = 3) -> list[str]:
    """n realistic interaction texts, a third of them Chinese."""
    rng = np.random.default_rng(seed)
    topics = [t for t in Topic if t not in (Topic.FAKE_POSITIVE, Topic.FAKE_NEGATIVE)]
    catalog = text_catalog(Industry.ECOMMERCE)
    rendered = catalog.render(
        rng.choice(np.array(topics, dtype=np.int16), n),
        rng.random(n) < 0.35,
        rng.integers(0, 64, n),
        np.arange(n, dtype=np.int64),
    )
    return [str(t) for t in rendered.to_pylist()]


def _analyse_batches(texts: list[str]) -> int:
    analyzer = default_analyzer()
    for start in range(0, len(texts), 2000):
        analyzer.analyze_many(texts[start : start + 2000])
    return len(texts)


def _warm() -> None:
    default_analyzer().analyze_many(["warm up", "预热一下"])


def main() -> None:
    n = int(os.environ.get("CREW_BENCH_TEXTS", "20000"))
    texts = bench_texts(n)
    started = time.perf_counter()
    analyzer = default_analyzer()  # Chinese model: trained once, cached; topic model: trained
    analyzer.analyze_many(texts[:10])
    load = time.perf_counter() - started

    started = time.perf_counter()
    _analyse_batches(texts)
    batch = n / (time.perf_counter() - started)

    single_n = min(n, 5000)
    started = time.perf_counter()
    for text in texts[:single_n]:
        analyze_text(text, analyzer=analyzer)
    single = single_n / (time.perf_counter() - started)

    workers = 2
    with ProcessPoolExecutor(workers) as pool:
        for future in [pool.submit(_warm) for _ in range(workers)]:
            future.result()  # each process loads its models before the clock starts
        halves = [texts[i::workers] for i in range(workers)]
        started = time.perf_counter()
        done = sum(pool.map(_analyse_batches, halves))
        parallel = done / (time.perf_counter() - started)

    print(
        f"text     {n:>11,} texts (35% Chinese): models loaded in {load:.1f} s; "
        f"batch {batch:,.0f} texts/s, one at a time {single:,.0f} texts/s (1 core); "
        f"{parallel:,.0f} texts/s on {workers} processes (target >= {TARGET:,} on 2 cores)"
    )


if __name__ == "__main__":
    main()
