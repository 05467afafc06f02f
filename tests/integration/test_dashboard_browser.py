"""The dashboard in a real browser: Debian's Chromium driven by Playwright over a live server.

A simulated workspace is trained, scored, replayed and backtested; the app is served by
uvicorn in a thread; each test logs in as one role. Every page is screenshotted into the
test's temporary folder (or `$CREW_TEST_ARTEFACTS/dashboard`), and must log no console error
and ask no host but the server.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from typer.testing import CliRunner

from crew.api import create_app
from crew.cli import app as cli_app
from crew.store import Workspace, open_workspace
from crew.store.operational import OperationalStore
from crew.store.users import Role
from crew.types import Level, WarningState

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]  # fmt: skip
PASSWORD = "browser-test-password"
PREPARE = (
    ["train", "--as-of", "2024-07-01", "--horizon", "30d", "--snapshots", "5"],
    ["indicators", "compute", "--as-of", "2024-10-01"],
    ["run", "--from", "2024-08-05", "--to", "2024-09-30", "--every", "14d"],
    ["backtest", "--from", "2024-06-03", "--to", "2024-08-26", "--every", "14d",
     "--horizon", "60d"],
)  # fmt: skip


class Served:
    """The running app: its URL, store, workspace and a folder for screenshots."""

    def __init__(self, url: str, store: OperationalStore, workspace: Workspace, shots: Path):
        self.url = url
        self.store = store
        self.workspace = workspace
        self.shots = shots


@pytest.fixture(scope="module")
def served(sim_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A scored, replayed and backtested copy of the simulated workspace, served on a free port."""
    root = tmp_path_factory.mktemp("dashboard") / "ws"
    shutil.copytree(sim_workspace.root, root)
    runner = CliRunner()
    for args in PREPARE:
        result = runner.invoke(cli_app, ["--workspace", str(root), *args])
        assert result.exit_code == 0, (args, result.output)
    workspace = open_workspace(root)
    app = create_app(workspace, workspace.settings)
    store: OperationalStore = app.state.crew.store
    for role in Role:
        store.users.add(role.value, role, PASSWORD, at=_now())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    # CI keeps the screenshots when CREW_TEST_ARTEFACTS names a folder; else pytest's temp dir.
    artefacts = os.environ.get("CREW_TEST_ARTEFACTS")
    shots = Path(artefacts) / "dashboard" if artefacts else tmp_path_factory.mktemp("screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {shots}")
    yield Served(f"http://127.0.0.1:{port}", store, workspace, shots)
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not on the PATH ('make browser' installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


class Watched:
    """A page with the console errors and the non-local requests it has seen."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in {"data", "blob", "about"} and parts.hostname != "127.0.0.1":
            self.foreign.append(request.url)

    def clean(self) -> None:
        """Assert that nothing went wrong so far."""
        assert self.errors == [], self.errors
        assert self.foreign == [], self.foreign


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    yield Watched(context.new_page())
    context.close()


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def log_in(w: Watched, served: Served, user: str) -> Page:
    page = w.page
    page.goto(served.url + "/")
    assert urlsplit(page.url).path == "/login", "a page without a session goes to the login"
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/")
    return page


def shot(page: Page, served: Served, name: str) -> None:
    page.screenshot(path=str(served.shots / f"{name}.png"), full_page=True)


def test_login_refuses_a_wrong_password(watched: Watched, served: Served) -> None:
    page = watched.page
    page.goto(served.url + "/warnings")
    page.fill("input[name=user]", "admin")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.locator("p.error").inner_text() == "Wrong user name or password."
    shot(page, served, "login-refused")
    assert watched.errors == ["Failed to load resource: the server responded with a status of 401 "
                              "(Unauthorized)"]  # fmt: skip


def test_overview_counts_equal_the_store(watched: Watched, served: Served) -> None:
    page = log_in(watched, served, "admin")
    counts = served.store.active_counts()
    shown = {
        el.get_attribute("data-level"): int(el.get_attribute("data-count") or -1)
        for el in page.locator(".cards [data-level]").all()
    }
    assert shown == {
        "total": sum(counts.values()),
        **{lv.value: counts.get(lv, 0) for lv in (Level.HIGH, Level.MEDIUM, Level.LOW)},
    }
    assert shown["total"] > 0
    by_type = served.store.stats.active_by_level_and_type()
    rows = page.locator("table.by-type tbody tr").all()
    assert {r.get_attribute("data-risk-type"): int(r.get_attribute("data-count") or -1)
            for r in rows} == {rt.value: sum(n for (_, t), n in by_type.items() if t == rt)
                               for (_, rt) in by_type}  # fmt: skip
    assert page.locator("table.heat tbody tr").count() >= 2, "the heat map has segments"
    assert page.locator("#live-status").inner_text() != ""
    shot(page, served, "overview")
    watched.clean()


def test_queue_filters_and_acknowledges(watched: Watched, served: Served) -> None:
    page = log_in(watched, served, "responder")
    page.click("nav.main-nav >> text=Warning queue")
    page.select_option("select[name=level]", "low")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/warnings?*level=low*")
    rows = page.locator("table.queue tbody tr[data-id]")
    expected = served.store.list_warnings(levels=[Level.LOW], limit=200)
    assert rows.count() == len(expected) > 0
    assert {r.get_attribute("data-level") for r in rows.all()} == {"low"}
    target = next(w for w in expected if w.state == WarningState.OPEN)
    page.check(f"input[name=id][value='{target.id}']")
    page.select_option("#bulk-action", "acknowledge")
    page.click("#bulk button[type=submit]")
    assert page.locator("#result").inner_text().startswith("1 changed, 0 skipped")
    row = page.locator(f"tr[data-id='{target.id}']")
    assert row.get_attribute("data-state") == "acknowledged"
    assert row.locator("td.state").inner_text() == "Acknowledged"
    assert served.store.get_warning(target.id).state == WarningState.ACKNOWLEDGED
    (record,) = served.store.audit.records(action="warning.state", subject=target.id)
    assert record.actor == "responder" and record.details["to"] == "acknowledged"
    shot(page, served, "queue")
    watched.clean()


def test_manager_assigns_a_warning(watched: Watched, served: Served) -> None:
    page = log_in(watched, served, "manager")
    page.goto(served.url + "/warnings")
    assert not page.locator("#bulk-assignee").is_visible(), "shown only for 'assign'"
    first = page.locator("table.queue tbody tr[data-id]").first
    warning_id = first.get_attribute("data-id") or ""
    first.locator("input[name=id]").check()
    page.select_option("#bulk-action", "assign")
    page.select_option("#bulk-assignee", "responder")
    page.click("#bulk button[type=submit]")
    assert page.locator("#result").inner_text().startswith("1 changed")
    assert served.store.get_warning(warning_id).assignee == "responder"
    assert served.store.audit.records(action="warning.assign", subject=warning_id)
    watched.clean()


def _customer_with_warning(served: Served) -> tuple[str, dict[str, str]]:
    warning = next(w for w in served.store.list_warnings(limit=50) if w.customer_id)
    assert warning.customer_id is not None
    with served.workspace.connect() as conn:
        row = conn.execute(
            "SELECT name, phone, email, id_number FROM customers WHERE customer_id = ?",
            [warning.customer_id],
        ).fetchone()
    assert row is not None
    return warning.customer_id, dict(zip(("name", "phone", "email", "id_number"), row, strict=True))


def _profile(page: Page) -> dict[str, str]:
    return {
        field: page.locator(f"dd[data-field={field}]").inner_text()
        for field in ("name", "phone", "email", "id_number")
    }


def test_analyst_sees_a_masked_customer_and_leaves_no_pii_record(
    watched: Watched, served: Served
) -> None:
    customer, raw = _customer_with_warning(served)
    before = len(served.store.audit.records(action="pii.view", limit=1000))
    page = log_in(watched, served, "analyst")
    page.click("nav.main-nav >> text=Warning queue")
    page.click(f"table.queue a[href='/customers/{customer}'] >> nth=0")
    page.wait_for_url(f"**/customers/{customer}")
    shown = _profile(page)
    assert shown["name"] == raw["name"][0] + "**" or shown["name"].endswith("***")
    assert "****" in shown["phone"] and shown["phone"] != raw["phone"]
    assert shown["email"].split("@")[0].endswith("***") and shown["id_number"].count("*") == 10
    assert raw["name"] not in page.content() and raw["phone"] not in page.content()
    assert page.locator("#pii-note").get_attribute("data-unmasked") == "no"
    assert page.locator(".chart svg circle").count() >= 2, "a risk timeline"
    assert page.locator("article.warning").count() >= 1
    assert len(served.store.audit.records(action="pii.view", limit=1000)) == before
    shot(page, served, "customer-analyst")
    watched.clean()


def test_a_viewer_sees_masked_phone_numbers_and_no_way_to_change_anything(
    watched: Watched, served: Served
) -> None:
    customer, raw = _customer_with_warning(served)
    before = len(served.store.audit.records(action="pii.view", limit=1000))
    page = log_in(watched, served, "viewer")
    page.click("nav.main-nav >> text=Warning queue")
    page.wait_for_url("**/warnings")
    assert page.locator("table.queue tbody tr[data-id]").count() > 0
    assert page.locator("#bulk-action").count() == 0, "no bulk actions for a viewer"
    page.click(f"table.queue a[href='/customers/{customer}'] >> nth=0")
    page.wait_for_url(f"**/customers/{customer}")
    phone = page.locator("dd[data-field=phone]").inner_text()
    digits = "".join(c for c in raw["phone"] if c.isdigit())
    assert "****" in phone and phone != raw["phone"]
    assert phone.replace("-", "")[:3] == digits[:3] and phone.endswith(digits[-4:])
    assert raw["phone"] not in page.content() and digits not in page.content()
    assert page.locator("#pii-note").get_attribute("data-unmasked") == "no"
    assert len(served.store.audit.records(action="pii.view", limit=1000)) == before
    shot(page, served, "customer-viewer")
    watched.clean()


def test_compliance_sees_the_customer_unmasked_and_is_audited(
    watched: Watched, served: Served
) -> None:
    customer, raw = _customer_with_warning(served)
    page = log_in(watched, served, "compliance")
    page.goto(f"{served.url}/customers/{customer}")
    assert _profile(page) == raw
    assert page.locator("#pii-note").get_attribute("data-unmasked") == "yes"
    records = served.store.audit.records(action="pii.view", actor="compliance", subject=customer)
    assert len(records) == 1 and records[0].details["fields"] == list(raw)
    assert served.store.audit.verify().ok
    shot(page, served, "customer-compliance")
    watched.clean()


def test_switching_to_chinese(watched: Watched, served: Served) -> None:
    page = log_in(watched, served, "admin")
    page.click("#lang-switch a[data-lang=zh]")
    page.wait_for_url("**lang=zh")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    nav = page.locator("nav.main-nav").inner_text()
    assert "总览" in nav and "预警队列" in nav and "效果评估" in nav
    assert page.locator(".cards [data-level=high] .k").inner_text() == "高"
    shot(page, served, "overview-zh")
    page.click("nav.main-nav >> text=预警队列")
    page.wait_for_url("**/warnings")
    assert page.locator("h1").inner_text() == "预警队列", "the choice is kept by a cookie"
    levels = set(page.locator("table.queue tbody .badge").all_inner_texts())
    assert levels and levels <= {"高", "中", "低"}
    customer, _ = _customer_with_warning(served)
    page.goto(f"{served.url}/customers/{customer}")
    assert "指标与基线对比" in page.content() and "客户档案" in page.content()
    shot(page, served, "customer-zh")
    watched.clean()


@pytest.mark.parametrize(
    ("page_path", "marker"),
    [("/evaluation", "figure[data-chart]"), ("/settings", "#thresholds-form table.rules input"),
     ("/playbooks", "#playbooks tr[data-playbook]"), ("/audit?verify=1", "#audit-check")],
)  # fmt: skip
def test_other_pages_render_cleanly(
    watched: Watched, served: Served, page_path: str, marker: str
) -> None:
    page = log_in(watched, served, "admin")
    page.goto(served.url + page_path)
    assert page.locator(marker).count() >= 1
    if page_path.startswith("/audit"):
        assert page.locator("#audit-check").inner_text().startswith("Chain intact")
    shot(page, served, page_path.strip("/").split("?")[0])
    watched.clean()


def test_the_live_feed_shows_a_warning_change_as_it_happens(
    watched: Watched, served: Served
) -> None:
    page = log_in(watched, served, "responder")
    status = page.locator("#live-status")
    status.wait_for()
    page.wait_for_function(
        "document.getElementById('live-status').textContent === "
        "document.getElementById('live-feed').getAttribute('data-on')",
        timeout=10_000,
    )
    active = served.store.active_warnings()
    target = str(active["id"].iloc[0])
    served.store.set_state(target, WarningState.RESOLVED, actor="test", at=_now())
    item = page.locator("#live-list li").first
    item.wait_for(timeout=10_000)
    page.screenshot(path=str(served.shots / "live-feed.png"), full_page=True)
    watched.clean()


def test_a_manager_gives_a_case_to_another_team(watched: Watched, served: Served) -> None:
    page = log_in(watched, served, "manager")
    page.goto(served.url + "/cases")
    first_case = page.locator("#case-board tbody tr[data-id] a").first
    first_case.click()
    page.wait_for_selector("#assign-case")
    case_id = page.url.rsplit("/", 1)[1]
    page.select_option("#assign-case select[name=team]", "compliance")
    page.click("#assign-case button[type=submit]")
    page.wait_for_load_state()
    assert served.store.cases.get(case_id).owner_team == "compliance"
    page.screenshot(path=str(served.shots / "case.png"), full_page=True)
    watched.clean()
