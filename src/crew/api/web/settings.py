"""The settings page (admins): trigger thresholds and weight sets, shown and edited.

Thresholds are saved into the workspace's `catalog/thresholds.yaml`, the file every run
reads, through `save_threshold_rules` (checked by the run's own loader, written atomically).
Weights are stored as a named weight set, as `crew weights` stores them, renormalised to sum
to 1 in each scope. A bad value answers the page again with a one-line message naming the
field, and nothing is written. Every saved change is in the audit log with old and new values.
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from crew.api.state import ApiState, api_state
from crew.api.web.forms import Fields, Form, first
from crew.api.web.pages import PageError, Viewer, analytics, demand, render, viewer
from crew.errors import ConfigError, WeightsError
from crew.grading.threshold_files import save_threshold_rules
from crew.grading.thresholds import THRESHOLDS_FILE, ThresholdRule, load_thresholds
from crew.response.access import Permission
from crew.signals.specs import load_signals
from crew.store.weights import StoredWeights, list_weight_sets, load_weights, save_weight_set

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
State = Annotated[ApiState, Depends(api_state)]

LIMITS = ("low_at", "medium_at", "high_at")
EDITABLE = (*LIMITS, "exit_factor", "cooldown_days")
"""Fields of a threshold rule the page edits; the others are kept as they are."""
MANUAL = "manual"
"""Method recorded for a weight set saved from the page."""
_SET_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SAVED = re.compile(r"^(thresholds|nothing|weights/[A-Za-z0-9_.-]{1,64})$")


def rule_field(signal: str, name: str) -> str:
    """Form field of a rule's value, e.g. `activity_drop.high_at`."""
    return f"{signal}.{name}"


def weight_field(scope: str, item: str) -> str:
    """Form field of one weight, e.g. `dimensions|trust` (scopes may hold a colon)."""
    return f"{scope}|{item}"


def edited_rules(current: Mapping[str, ThresholdRule], form: Form) -> list[ThresholdRule]:
    """The rules whose editable values the form changes, validated; ConfigError names a field.

    >>> rule = ThresholdRule(signal="s", low_at=1, medium_at=2)
    >>> [r.medium_at for r in edited_rules({"s": rule}, {"s.medium_at": ["3"]})]
    [3.0]
    >>> edited_rules({"s": rule}, {"s.medium_at": ["0.5"]})
    Traceback (most recent call last):
    crew.errors.ConfigError: s: limits must rise from low to high (got [1.0, 0.5]).
    """
    changed = []
    for signal, rule in current.items():
        values = rule.model_dump()
        for name in EDITABLE:
            field = rule_field(signal, name)
            if field in form:
                values[name] = _number(first(form, field), field, blank_ok=name in LIMITS)
        if values == rule.model_dump():
            continue
        try:
            changed.append(ThresholdRule.model_validate(values))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join([signal, *(str(p) for p in error["loc"])])
            message = error["msg"].removeprefix("Value error, ")
            raise ConfigError(f"{where}: {message}.", hint=None) from None
    return changed


def edited_weights(stored: StoredWeights, form: Form) -> dict[str, dict[str, float]]:
    """Every scope of `stored` with the form's weights, each scope renormalised to sum to 1.

    >>> from datetime import datetime
    >>> s = StoredWeights("w", {"dimensions": {"a": 0.5, "b": 0.5}}, {}, {}, datetime.now())
    >>> edited_weights(s, {"dimensions|a": ["3"], "dimensions|b": ["1"]})
    {'dimensions': {'a': 0.75, 'b': 0.25}}
    """
    scopes: dict[str, dict[str, float]] = {}
    for scope, weights in stored.weights.items():
        raw: dict[str, float] = {}
        for item, old in weights.items():
            field = weight_field(scope, item)
            value = _number(first(form, field), field) if field in form else old
            if value is None or value < 0:
                raise WeightsError(f"{field}: a weight is a number of 0 or more.")
            raw[item] = value
        total = sum(raw.values())
        if total <= 0:
            raise WeightsError(f"{scope}: at least one weight must be above 0.")
        scopes[scope] = {item: w / total for item, w in raw.items()}
    return scopes


def _number(text: str, field: str, *, blank_ok: bool = False) -> float | None:
    text = text.strip()
    if not text and blank_ok:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{field}: '{text[:40]}' is not a number.") from None
    if not math.isfinite(value):
        raise ConfigError(f"{field}: {text} is not a finite number.")
    return value


def _page(
    request: Request, who: Viewer, state: ApiState, *, notice: str | None = None,
    error: str | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    root, industry = state.workspace.root, state.workspace.settings.industry
    rules = load_thresholds(root, industry)
    risk = {s.name: s.risk_type.value for s in load_signals(root)}
    with analytics(state) as conn:
        weight_sets = [load_weights(conn, s.name) for s in list_weight_sets(conn)]
    context = {
        "rules": list(rules.values()), "risk": risk, "weight_sets": weight_sets,
        "industry": industry.value, "file": str(THRESHOLDS_FILE), "notice": notice,
        "error": error, "rule_field": rule_field, "weight_field": weight_field,
    }  # fmt: skip
    return render(request, "settings.html", context, who=who, status=status)


def _admitted(form: Form, who: Viewer) -> None:
    demand(who, Permission.SETTINGS)
    if not hmac.compare_digest(first(form, "csrf") or "-", who.session.csrf or ""):
        raise PageError(403, "bad_csrf")


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, who: Who, state: State, saved: Annotated[str, Query()] = ""
) -> HTMLResponse:
    """Thresholds and weights in force, with forms to change them (admins)."""
    demand(who, Permission.SETTINGS)
    notice = None if not _SAVED.match(saved) else "" if saved == "nothing" else saved
    return _page(request, who, state, notice=notice)


@router.post("/settings/thresholds")
def save_thresholds(request: Request, form: Fields, who: Who, state: State) -> Response:
    """Save the changed threshold rules into `catalog/thresholds.yaml` (admins, audited)."""
    _admitted(form, who)
    root, industry = state.workspace.root, state.workspace.settings.industry
    current = load_thresholds(root, industry)
    try:
        changed = edited_rules(current, form)
        if changed:
            signals = [s.name for s in load_signals(root)]
            save_threshold_rules(root, changed, industry, signals=signals)
    except ConfigError as exc:
        return _page(request, who, state, error=exc.message, status=400)
    if not changed:
        return RedirectResponse("/settings?saved=nothing", status_code=303)
    changes = [
        {"signal": r.signal, "old": {k: getattr(current[r.signal], k) for k in EDITABLE},
         "new": {k: getattr(r, k) for k in EDITABLE}}
        for r in changed
    ]  # fmt: skip
    state.store.audit.append(who.user.name, "settings.thresholds", str(THRESHOLDS_FILE),
                             {"changes": changes}, at=datetime.now(UTC))  # fmt: skip
    return RedirectResponse("/settings?saved=thresholds", status_code=303)


@router.post("/settings/weights")
def save_weights(request: Request, form: Fields, who: Who, state: State) -> Response:
    """Store a weight set's edited weights, renormalised, under its name or a new one."""
    _admitted(form, who)
    name = first(form, "weight_set")
    target = first(form, "save_as").strip() or name
    error = None
    with analytics(state) as conn:
        try:
            stored = load_weights(conn, name)
        except WeightsError:
            raise PageError(404, "not_found") from None
        try:
            if not _SET_NAME.match(target):
                raise WeightsError(f"save_as: '{target[:40]}' is not a weight-set name.")
            scopes = edited_weights(stored, form)
        except (ConfigError, WeightsError) as exc:
            error = exc.message
        else:
            changes = {
                scope: {"old": stored.weights[scope], "new": new}
                for scope, new in scopes.items()
                if any(abs(new[i] - stored.weights[scope][i]) > 1e-12 for i in new)
            }
            if not changes and target == name:
                return RedirectResponse("/settings?saved=nothing", status_code=303)
            provenance = {
                "method": MANUAL, "based_on": name, "based_on_methods": stored.methods,
                "edited_by": who.user.name, "renormalised": True,
                "created_at": datetime.now(UTC).isoformat(),
            }  # fmt: skip
            save_weight_set(conn, target, scopes, MANUAL, provenance)
    if error is not None:
        return _page(request, who, state, error=error, status=400)
    details = {"weight_set": target, "based_on": name, "changes": changes}
    state.store.audit.append(who.user.name, "settings.weights", f"weights/{target}", details,
                             at=datetime.now(UTC))  # fmt: skip
    return RedirectResponse(f"/settings?saved=weights/{target}", status_code=303)


__all__ = ["EDITABLE", "edited_rules", "edited_weights", "router"]
