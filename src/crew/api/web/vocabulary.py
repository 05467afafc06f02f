"""Labels of closed sets of values in English and 简体中文, by kind: levels, risk types,
warning and case states, case outcomes, tiers, roles, interaction kinds, outcomes, customer
fields, step channels and industry profiles. `Translator.value` reads them."""

from __future__ import annotations

VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "level": {
        "high": ("High", "高"),
        "medium": ("Medium", "中"),
        "low": ("Low", "低"),
        "none": ("None", "无"),
    },
    "risk": {
        "churn": ("Churn", "客户流失"),
        "complaint_surge": ("Complaint surge", "投诉激增"),
        "fraud": ("Fraud", "欺诈"),
        "data_leakage": ("Data leakage", "数据泄露"),
        "satisfaction_decline": ("Satisfaction decline", "满意度下降"),
        "trust_breakdown": ("Trust breakdown", "信任破裂"),
        "fake_review": ("Fake reviews", "虚假评价"),
        "external_shock": ("External shock", "外部冲击"),
    },
    "state": {
        "open": ("Open", "待处理"),
        "acknowledged": ("Acknowledged", "已确认"),
        "in_progress": ("In progress", "处理中"),
        "resolved": ("Resolved", "已解决"),
        "false_positive": ("False positive", "误报"),
    },
    "case_state": {
        "open": ("Open", "待处理"),
        "in_progress": ("In progress", "处理中"),
        "escalated": ("Escalated", "已升级"),
        "awaiting_outcome": ("Awaiting outcome", "待记录结果"),
        "closed": ("Closed", "已关闭"),
        "control": ("Control group", "对照组"),
    },
    "case_outcome": {
        "retained": ("Retained", "已挽留"),
        "churned": ("Churned", "已流失"),
        "fraud_confirmed": ("Fraud confirmed", "确认欺诈"),
        "false_alarm": ("False alarm", "误报"),
        "resolved": ("Resolved", "已解决"),
    },
    "tier": {
        "key": ("Key", "重点客户"),
        "important": ("Important", "重要客户"),
        "regular": ("Regular", "普通客户"),
    },
    "role": {
        "admin": ("Admin", "管理员"),
        "manager": ("Manager", "经理"),
        "analyst": ("Analyst", "分析师"),
        "responder": ("Responder", "响应专员"),
        "compliance": ("Compliance officer", "合规官"),
        "viewer": ("Viewer", "只读用户"),
    },
    "kind": {
        "complaint": ("Complaint", "投诉"),
        "ticket": ("Ticket", "工单"),
        "survey": ("Survey", "调查"),
        "call": ("Call", "电话"),
        "chat": ("Chat", "在线咨询"),
        "review": ("Review", "评价"),
        "dispute": ("Dispute", "争议"),
        "regulator_complaint": ("Regulator complaint", "监管投诉"),
    },
    "outcome": {
        "churn": ("Churn", "客户流失"),
        "fraud_confirmed": ("Fraud confirmed", "确认欺诈"),
        "regulator_case": ("Regulator case", "监管立案"),
        "data_incident": ("Data incident", "数据事件"),
        "complaint_escalated": ("Complaint escalated", "投诉升级"),
    },
    "field": {
        "customer_id": ("Customer id", "客户编号"),
        "segment": ("Segment", "客群"),
        "tier": ("Tier", "客户等级"),
        "industry": ("Industry", "行业"),
        "region": ("Region", "地区"),
        "signup_date": ("Signed up", "注册日期"),
        "name": ("Name", "姓名"),
        "phone": ("Phone", "电话"),
        "email": ("E-mail", "邮箱"),
        "id_number": ("ID number", "证件号"),
    },
    "channel": {
        "phone": ("Phone", "电话"),
        "email": ("E-mail", "邮件"),
        "sms": ("SMS", "短信"),
        "in_app": ("In the app", "应用内消息"),
        "internal": ("Internal work", "内部处理"),
    },
    "industry": {
        "generic": ("Generic", "通用"),
        "finance": ("Finance", "金融"),
        "ecommerce": ("E-commerce", "电子商务"),
        "telecom": ("Telecom", "电信"),
        "healthcare": ("Healthcare", "医疗健康"),
    },
}


__all__ = ["VALUE_LABELS"]
