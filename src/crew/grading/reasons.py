"""Why a warning was raised: one sentence per firing signal, in English and 简体中文."""

from __future__ import annotations

from collections.abc import Mapping

from crew.signals.specs import Detector, SignalSpec


def signal_reason(
    spec: SignalSpec, score: float, evidence: Mapping[str, object]
) -> dict[str, object]:
    """A reason entry for one signal of one customer: name, score and two sentences.

    >>> spec = SignalSpec(name="s", risk_type="churn", detector="series_drop", measure="purchases",
    ...                   label={"en": "Purchases fell", "zh": "购买下降"})
    >>> r = signal_reason(spec, 4.2, {"baseline_per_week": 3.0, "recent_per_week": 0.5,
    ...                               "recent_weeks": 4})
    >>> r["en"]
    'Purchases fell: 0.5 a week in the last 4 weeks against 3 before (score 4.2).'
    >>> r["zh"]
    '购买下降：近4周每周0.5，此前每周3（分值4.2）。'
    >>> r = signal_reason(spec, 2.1, {"baseline_per_week": 4.0, "recent_per_week": 1.0,
    ...                               "fading_for_weeks": 6})
    >>> r["en"]
    'Purchases fell: fading for 6 weeks, now 1 a week against 4 before (score 2.1).'
    """
    en, zh = spec.label.en, spec.label.zh
    e = dict(evidence)
    s = _num(score)
    match spec.detector:
        case Detector.SERIES_DROP | Detector.CONFIRMED if "fading_for_weeks" in e:
            recent, base, weeks = (
                _num(e.get("recent_per_week")), _num(e.get("baseline_per_week")),
                e.get("fading_for_weeks"),
            )  # fmt: skip
            en += f": fading for {weeks} weeks, now {recent} a week against {base} before"
            zh += f"：近{weeks}周持续减弱，现每周{recent}，此前每周{base}"
            share = e.get(f"{spec.confirm}_top_share")
            if isinstance(share, int | float):
                en += f"; {spec.confirm} in the top {_pct(share)}"
                zh += f"；{spec.confirm}位于前{_pct(share)}"
            en += f" (score {s})."
            zh += f"（分值{s}）。"
        case Detector.SERIES_DROP | Detector.SERIES_SPIKE:
            recent, base, weeks = (
                _num(e.get("recent_per_week")), _num(e.get("baseline_per_week")),
                e.get("recent_weeks"),
            )  # fmt: skip
            en += f": {recent} a week in the last {weeks} weeks against {base} before (score {s})."
            zh += f"：近{weeks}周每周{recent}，此前每周{base}（分值{s}）。"
        case Detector.SURGE:
            counts = e.get("weekly_counts")
            growth = _num(e.get("growth_per_week"))
            en += f": weekly counts {counts}, x{growth} a week (score {s})."
            zh += f"：每周次数{counts}，每周增长{growth}倍（分值{s}）。"
        case Detector.MODEL:
            en += f": {float(score):.0%}."
            zh += f"：{float(score):.0%}。"
        case Detector.QUADRANT:
            pos, vel = _pct(e.get("peer_percentile")), _pct(e.get("velocity_percentile"))
            en += f": worse than {pos} of segment peers, slowing faster than {vel} of customers."
            zh += f"：差于{pos}的同群客户，放缓速度超过{vel}的客户。"
        case Detector.ISOLATION:
            tops = e.get("top_indicators")
            items = tops if isinstance(tops, list) else []
            names = (
                ", ".join(str(t.get("indicator")) for t in items if isinstance(t, Mapping))
                or "several indicators"
            )
            en += f": {names} far from the segment's usual values."
            zh += f"：{names}明显偏离同群常态。"
        case _:
            shown = ", ".join(f"{k} {_num(v)}" for k, v in e.items() if v is not None)
            en += f" (score {s}; {shown})." if shown else f" (score {s})."
            zh += f"（分值{s}；{shown}）。" if shown else f"（分值{s}）。"
    return {"signal": spec.name, "score": round(float(score), 4), "en": en, "zh": zh}


def _num(value: object) -> str:
    """A number as people write it: 3, 0.5, 12.3.

    >>> _num(3.0), _num(0.456), _num(None)
    ('3', '0.46', 'n/a')
    """
    if not isinstance(value, int | float):
        return "n/a"
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _pct(value: object) -> str:
    return f"{float(value):.0%}" if isinstance(value, int | float) else "n/a"


__all__ = ["signal_reason"]
