"""The first action a warning recommends, by risk type and level, before any playbook runs."""

from __future__ import annotations

from crew.types import Level, RiskType

_ACTIONS: dict[RiskType, tuple[str, str]] = {
    RiskType.CHURN: ("Retention call with a tailored offer", "客户挽留回访并提供定制优惠"),
    RiskType.COMPLAINT_SURGE: (
        "Service recovery: senior agent owns every open complaint",
        "服务补救：由资深客服统一跟进全部未结投诉",
    ),
    RiskType.FRAUD: ("Hold risky transactions and verify identity", "冻结可疑交易并核实身份"),
    RiskType.DATA_LEAKAGE: (
        "Compliance review; notify the data-protection officer",
        "合规审查并通知数据保护负责人",
    ),
    RiskType.SATISFACTION_DECLINE: (
        "Care call to understand the drop",
        "关怀回访了解满意度下降原因",
    ),
    RiskType.TRUST_BREAKDOWN: (
        "Escalate to the risk response team",
        "升级至专项风险响应小组",
    ),
    RiskType.FAKE_REVIEW: ("Hold the reviews and verify the accounts", "暂停评价展示并核验账户"),
    RiskType.EXTERNAL_SHOCK: (
        "Segment-wide review by the risk response team",
        "专项风险响应小组开展客群整体排查",
    ),
}


def recommended_action(risk_type: RiskType, level: Level) -> str:
    """The action a warning of `risk_type` at `level` recommends, in English and Chinese.

    >>> recommended_action(RiskType.FRAUD, Level.HIGH)
    'Urgent: Hold risky transactions and verify identity (紧急：冻结可疑交易并核实身份)'
    """
    en, zh = _ACTIONS[risk_type]
    if level == Level.HIGH:
        return f"Urgent: {en} (紧急：{zh})"
    if level == Level.LOW:
        return f"Watch: {en} (关注：{zh})"
    return f"{en} ({zh})"


__all__ = ["recommended_action"]
