"""The dashboard's words in English and 简体中文: UI strings, levels, risk types, states, roles.

Indicator and dimension labels come from the indicator catalog, which has both languages.
A page's language is the `lang` query parameter, else the `lang` cookie, else the browser's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from fastapi import Request

from crew.api.web.vocabulary import VALUE_LABELS
from crew.indicators.catalog import Catalog, Label

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")
LANG_NAMES: dict[Lang, str] = {"en": "English", "zh": "简体中文"}

_EN_ZH: dict[str, tuple[str, str]] = {
    # navigation and page titles
    "app": ("CREW early warning", "CREW 客户关系风险预警"),
    "overview": ("Overview", "总览"),
    "queue": ("Warning queue", "预警队列"),
    "customer": ("Customer", "客户"),
    "evaluation": ("Evaluation", "效果评估"),
    "settings": ("Settings", "设置"),
    "audit": ("Audit log", "审计日志"),
    "login": ("Log in", "登录"),
    "logout": ("Log out", "退出"),
    "user": ("User", "用户"),
    "password": ("Password", "密码"),
    "login_failed": ("Wrong user name or password.", "用户名或密码错误。"),
    "login_throttled": (
        "Too many failed logins; try again in {seconds} s.",
        "登录失败次数过多，请 {seconds} 秒后重试。",
    ),
    "signed_in_as": ("Signed in as", "当前用户"),
    # overview
    "active_warnings": ("Active warnings", "活动预警"),
    "by_level": ("By level", "按等级"),
    "by_type": ("By risk type", "按风险类型"),
    "trend": ("Warnings opened per week", "每周新增预警"),
    "heatmap": ("Risk by segment and dimension", "客群 × 维度风险热力图"),
    "heatmap_note": (
        "Mean dimension score (0-100) of each segment's customers at the latest scoring, {as_of}.",
        "最近一次评分（{as_of}）各客群客户的平均维度得分（0-100）。",
    ),
    "segment": ("Segment", "客群"),
    "customers": ("customers", "位客户"),
    "live_feed": ("Live feed", "实时预警"),
    "live_on": ("connected", "已连接"),
    "live_off": ("live feed not available on this server", "本服务器未提供实时推送"),
    "live_retry": ("reconnecting…", "重新连接中…"),
    "live_empty": ("New warnings appear here as they fire.", "新预警触发后将显示在此处。"),
    "total": ("Total", "合计"),
    "week": ("Week", "周"),
    "no_data": ("No data yet.", "暂无数据。"),
    "refreshed_live": (
        "refreshed by the stream after a material change",
        "因重大变化由实时流重新评分",
    ),
    "no_scores": (
        "No scores yet: run 'crew score' or 'crew run'.",
        "尚无评分：请运行 crew score 或 crew run。",
    ),
    # queue
    "level": ("Level", "等级"),
    "risk_type": ("Risk type", "风险类型"),
    "state": ("State", "状态"),
    "subject": ("Subject", "对象"),
    "score": ("Score", "分值"),
    "first_seen": ("First seen", "首次发现"),
    "last_seen": ("Last seen", "最近发现"),
    "assignee": ("Assignee", "负责人"),
    "reasons": ("Reasons", "原因"),
    "action": ("Recommended action", "建议措施"),
    "any": ("any", "全部"),
    "active": ("active", "活动中"),
    "all": ("all", "全部状态"),
    "filter": ("Filter", "筛选"),
    "select_all": ("Select all", "全选"),
    "with_selected": ("With the selected warnings:", "对所选预警："),
    "apply": ("Apply", "执行"),
    "do_acknowledge": ("Acknowledge", "确认"),
    "do_start": ("Start work", "开始处理"),
    "do_resolve": ("Resolve", "解决"),
    "do_dismiss": ("Mark false positive", "标记为误报"),
    "do_assign": ("Assign to", "分配给"),
    "nobody": ("—", "—"),
    "shown": (
        "{n} shown (newest first, at most {limit}).",
        "显示 {n} 条（最新在前，最多 {limit} 条）。",
    ),
    "done": (
        "{done} changed, {skipped} skipped (not allowed from their state).",
        "已更改 {done} 条，跳过 {skipped} 条（当前状态不允许）。",
    ),
    "none_selected": ("Select at least one warning.", "请至少选择一条预警。"),
    # cases
    "cases": ("Cases", "处置工单"),
    "case": ("Case", "工单"),
    "team": ("Team", "团队"),
    "tier": ("Tier", "客户分级"),
    "playbook": ("Playbook", "应对策略"),
    "next_step": ("Next step", "下一步"),
    "due": ("Due", "截止"),
    "overdue": ("overdue", "已逾期"),
    "steps": ("Steps", "处置步骤"),
    "step_done": ("done", "已完成"),
    "step_open": ("to do", "待办"),
    "do_done": ("Mark done", "标记完成"),
    "do_reassign": ("Give the case to", "转交给"),
    "do_close": ("Close with the outcome", "结案，结果为"),
    "being_worked": ("being worked", "处理中"),
    "not_allowed": ("Not possible in the case's state.", "工单当前状态下不可执行。"),
    "control_note": (
        "Control group: no action on purpose, to measure the effect of actions.",
        "对照组：有意不采取措施，用于衡量措施效果。",
    ),
    "cases_shown": (
        "{n} shown (nearest deadline first, at most {limit}).",
        "显示 {n} 条（截止时间最近在前，最多 {limit} 条）。",
    ),
    # customer 360
    "profile": ("Profile", "客户档案"),
    "pii_masked": ("Personal data masked for your role.", "根据您的角色，个人信息已脱敏。"),
    "pii_shown": (
        "Personal data shown unmasked: this view is recorded in the audit log.",
        "个人信息未脱敏显示：本次查看已记入审计日志。",
    ),
    "timeline": ("Risk timeline", "风险走势"),
    "risk_index": ("Risk index", "风险指数"),
    "churn_probability": ("Churn probability", "流失概率"),
    "dimensions": ("Dimension scores", "维度得分"),
    "indicators": ("Indicators against baselines", "指标与基线对比"),
    "indicator": ("Indicator", "指标"),
    "dimension": ("Dimension", "维度"),
    "other_indicators": (
        "{n} more indicators, no worse than their baselines",
        "另有 {n} 项指标不劣于基线",
    ),
    "value": ("Value", "数值"),
    "own_baseline": ("Own baseline", "自身基线"),
    "segment_median": ("Segment median", "客群中位数"),
    "signals": ("Signals and evidence", "预警信号与证据"),
    "warnings": ("Warnings", "预警"),
    "interactions": ("Interactions", "客户互动"),
    "kind": ("Kind", "类型"),
    "when": ("When", "时间"),
    "text": ("Text", "内容"),
    "as_of": ("As of", "评估时点"),
    "model_reasons": ("Why the model rates this customer", "模型评分原因"),
    "history": ("History", "处理记录"),
    "worse": ("worse than baseline", "劣于基线"),
    # evaluation
    "eval_missing": (
        "No backtest yet: run 'crew backtest' to create reports/backtest.json.",
        "尚无回测：请运行 crew backtest 生成 reports/backtest.json。",
    ),
    "backtest_period": (
        "Backtest {start} → {end}, every {every} days, horizon {horizon} days.",
        "回测 {start} → {end}，每 {every} 天一次，观察期 {horizon} 天。",
    ),
    "scores_compared": ("Scores compared", "各评分对比"),
    "timeliness": ("Timeliness", "及时性"),
    "outcomes": ("outcomes", "结果数"),
    "warned": ("warned", "已预警"),
    "median_lead": ("median lead (days)", "中位提前天数"),
    "false_alarms": ("False alarms per 1,000 customers per week", "每千客户每周误报数"),
    "roc": ("ROC curve (churn)", "ROC 曲线（流失）"),
    "lift": ("Lift by decile (churn)", "十分位提升度（流失）"),
    "calibration": ("Calibration", "校准"),
    "lead_time": ("Lead time (days)", "提前期（天）"),
    "per_week_level": ("Warnings per week by level", "每周预警（按等级）"),
    "drift": ("Score drift (PSI)", "评分漂移（PSI）"),
    # settings and audit
    "settings_note": (
        "Saved thresholds go to catalog/thresholds.yaml, which the next run reads; weights "
        "are stored by set name, used by 'crew train --weights NAME'. Every change is audited.",
        "阈值保存到 catalog/thresholds.yaml，下次运行即生效；权重按权重集名称保存，"
        "供 crew train --weights 名称 使用。每次修改均记入审计日志。",
    ),
    "save": ("Save", "保存"),
    "save_as": ("Save as weight set", "另存为权重集"),
    "saved": ("Saved: {what}.", "已保存：{what}。"),
    "nothing_changed": ("Nothing changed.", "没有修改。"),
    "invalid": ("Not saved: {message}", "未保存：{message}"),
    "weights_renormalised": (
        "Weights of each scope are renormalised to sum to 1 when saved.",
        "保存时每个范围内的权重将重新归一化，使其和为 1。",
    ),
    "limits_blank": (
        "Leave a limit blank for a level the rule never gives.",
        "某等级的限值留空表示该规则不产生此等级。",
    ),
    # playbooks
    "playbooks": ("Playbooks", "应对策略"),
    "playbooks_note": (
        "Rules in matching order: the first rule that matches a warning opens its case. "
        "Built-in rules with the workspace's catalog/playbooks.yaml on top.",
        "按匹配顺序排列：第一条匹配预警的规则为其创建工单。内置规则叠加工作区的 "
        "catalog/playbooks.yaml。",
    ),
    "matches": ("Matches", "匹配条件"),
    "profile_match": ("Industry profile", "行业"),
    "any_value": ("any", "任意"),
    "channel": ("Channel", "渠道"),
    "sla_hours": ("Deadline (hours)", "时限（小时）"),
    "escalate_to": ("Escalates to", "逾期升级至"),
    "message": ("Message", "消息模板"),
    "teams": ("Teams", "团队"),
    "tiers": ("Customer tiers", "客户分级"),
    "tiers_note": (
        "A customer's own tier column wins; otherwise customers are tiered by CLV rank.",
        "客户自带分级时以其为准；否则按客户终身价值（CLV）排名分级。",
    ),
    "tier_key_rule": ("top {share} by CLV", "CLV 排名前 {share}"),
    "tier_important_rule": ("next {share} by CLV", "其后 {share}"),
    "tier_regular_rule": ("everyone else", "其余客户"),
    "thresholds": ("Trigger thresholds", "触发阈值"),
    "signal": ("Signal", "信号"),
    "method": ("Method", "方法"),
    "cooldown": ("Cooldown (days)", "冷却期（天）"),
    "exit_factor": ("Hysteresis", "滞回系数"),
    "weights": ("Weight sets", "权重集"),
    "no_weights": (
        "No weight sets stored: 'crew weights ahp' or 'entropy' makes one.",
        "尚未保存权重集：可用 crew weights ahp 或 entropy 生成。",
    ),
    "profile_industry": ("Industry profile", "行业配置"),
    "audit_ok": (
        "Chain intact: {n} records, head {head}.",
        "哈希链完整：{n} 条记录，链头 {head}。",
    ),
    "audit_bad": ("Chain broken: {problem}.", "哈希链已被破坏：{problem}。"),
    "actor": ("Actor", "操作者"),
    "audit_action": ("Action", "操作"),
    "details": ("Details", "详情"),
    # errors
    "forbidden": (
        "Your role may not open this page or do this.",
        "您的角色无权访问此页面或执行此操作。",
    ),
    "not_found": ("Not found.", "未找到。"),
    "unavailable": ("The data store is busy; try again shortly.", "数据存储繁忙，请稍后重试。"),
    "bad_csrf": (
        "The form has expired; reload the page and try again.",
        "表单已过期，请刷新页面后重试。",
    ),
    "back": ("Back to the overview", "返回总览"),
}


@dataclass(frozen=True)
class Translator:
    """Words of one language; indicator, dimension and signal labels from the catalogs."""

    lang: Lang
    catalog: Catalog | None = field(default=None, compare=False)
    signals: Mapping[str, Label] = field(default_factory=dict, compare=False)

    def __call__(self, key: str, **values: object) -> str:
        """The UI string `key`, formatted with `values`; the key itself if unknown.

        >>> Translator("zh")("shown", n=3, limit=200)
        '显示 3 条（最新在前，最多 200 条）。'
        """
        pair = _EN_ZH.get(key)
        text = key if pair is None else pair[LANGS.index(self.lang)]
        return text.format(**values) if values else text

    def value(self, kind: str, value: str | None) -> str:
        """Label of a value of `kind` (level, risk, state, role, kind, outcome, field).

        A value the catalog does not know is shown as it is.


        >>> Translator("zh").value("level", "high"), Translator("en").value("risk", "fraud")
        ('高', 'Fraud')
        """
        if value is None:
            return "—"
        pair = VALUE_LABELS.get(kind, {}).get(value)
        return value if pair is None else pair[LANGS.index(self.lang)]

    def indicator(self, indicator_id: str) -> str:
        """The catalog label of an indicator, or its id when the catalog does not know it."""
        found = self.catalog.by_id.get(indicator_id) if self.catalog is not None else None
        if found is None:
            return indicator_id
        return found.label.zh if self.lang == "zh" else found.label.en

    def signal(self, name: str) -> str:
        """The label of a warning signal (from the signal specs), or its name."""
        found = self.signals.get(name)
        if found is None:
            return name
        return found.zh if self.lang == "zh" else found.en

    def dimension(self, dimension: str) -> str:
        """The catalog label of a dimension (经营维度, ...)."""
        found = self.catalog.dimensions.get(dimension) if self.catalog is not None else None
        if found is None:
            return dimension
        return found.zh if self.lang == "zh" else found.en

    def values(self, kind: str) -> dict[str, str]:
        """Every label of `kind` in this language, by value (for the live feed's script)."""
        return {v: pair[LANGS.index(self.lang)] for v, pair in VALUE_LABELS.get(kind, {}).items()}


def lang_of(request: Request) -> Lang:
    """The page language: `?lang=`, else the `lang` cookie, else Accept-Language, else en."""
    for candidate in (request.query_params.get("lang"), request.cookies.get("lang")):
        if candidate in LANGS:
            return "zh" if candidate == "zh" else "en"
    accepted = request.headers.get("accept-language", "").lower()
    return "zh" if accepted.startswith("zh") else "en"


__all__ = ["LANGS", "LANG_NAMES", "Lang", "Translator", "lang_of"]
