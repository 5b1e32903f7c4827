"""The pages in a real browser: Debian's Chromium driven by Playwright, against a live server.

Skipped, saying why, where /usr/bin/chromium is missing (`make test` installs it when it
runs as root). Screenshots of the inbox and a task page go to test-artifacts/.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from engine import clock
from tests.conftest import make_units
from tests.scenario import Case, deploy_all

CHROMIUM = os.environ.get("PROPFLOW_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PNG = bytes.fromhex(  # a 1x1 PNG that decodes: a step reads and re-encodes every image
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
)

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extras install it
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="the playwright package is not installed"),
    pytest.mark.skipif(
        not shutil.which(CHROMIUM),
        reason=f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium as root",
    ),
]

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
# plain blocking calls all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def site(transactional_db, live_server, users, chromium):
    """``site.login(role, locale=..., viewport=...)`` gives a signed-in page.

    Every page of every test runs under the site's Content-Security-Policy; Chromium logs a
    violation to the console, and one on any page fails the test.
    """
    deploy_all()
    make_units("1-101", "1-102")
    pages = []
    violations = []

    class Site:
        url = live_server.url

        def page(self, *, locale="zh-CN", viewport=None):
            context = chromium.new_context(
                locale=locale, viewport=viewport or {"width": 1280, "height": 900}
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("console", lambda m: violations.extend(
                [f"{page.url}: {m.text}"] if "Content Security Policy" in m.text else []
            ))  # fmt: skip
            pages.append(context)
            return page

        def login(self, role, *, locale="zh-CN", viewport=None):
            page = self.page(locale=locale, viewport=viewport)
            page.goto(f"{self.url}/login/")
            page.fill("input[name=username]", role)
            page.fill("input[name=password]", "pw")
            page.click("button.primary")
            page.wait_for_url(f"{self.url}/")
            return page

        violations: list[str]

    Site.violations = violations
    yield Site()
    for context in pages:
        context.close()
    assert violations == [], "pages broke the Content-Security-Policy"


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000
    return path


def field(page, name: str):
    return page.locator(f'[name="{name}"]')


def test_a_complaint_from_registration_in_chinese_to_return_visit(site):
    # One story, kept whole on purpose: a complaint as four people work it in the browser.
    # The front desk registers a complaint, in Chinese, and gets two fields wrong.
    desk = site.login("frontdesk")
    expect(desk.locator("nav")).to_contain_text("待办")
    desk.click("text=新建")
    desk.click("text=投诉处理")
    field(desk, "complainant").fill("陈女士")
    field(desk, "phone").fill("电话号码")
    field(desk, "unit").fill("1-101")
    field(desk, "channel").select_option("walk_in")
    field(desk, "category").select_option("service_attitude")
    desk.click("button.primary")

    expect(desk.locator(".messages")).to_contain_text("表单有误，未保存任何内容")
    expect(desk.locator("#e-description")).to_have_text("此项必填。")
    expect(desk.locator("#e-phone")).to_have_text("格式不正确。")
    expect(field(desk, "complainant")).to_have_value("陈女士")  # what was typed stays
    expect(field(desk, "channel")).to_have_value("walk_in")

    field(desk, "phone").fill("13900000002")
    field(desk, "description").fill("保洁员态度恶劣")
    desk.click("button.primary")
    # Straight on to the next step, which is the front desk's too: screening.
    expect(desk.locator(".messages")).to_contain_text("已登记案件")
    expect(desk.locator("h1")).to_have_text("甄别有效投诉")
    shot(desk, "task-page")
    field(desk, "valid").check()
    field(desk, "department").select_option("engineering")
    desk.click("button.primary")
    expect(desk.locator(".messages")).to_contain_text("已完成「甄别有效投诉」")
    case_link = desk.locator("a[href^='/cases/']").first

    # Engineering handles it: claims it from the inbox, resolves it.
    handler = site.login("engineering")
    row = handler.locator("tr", has_text="1-101")
    expect(row).to_contain_text("投诉处理")
    shot(handler, "inbox")
    row.locator("button", has_text="认领").click()
    expect(handler.locator(".messages")).to_contain_text("已认领")
    expect(handler.locator("tr", has_text="1-101")).to_contain_text("我")
    handler.locator("tr", has_text="1-101").locator("td.name a").click()
    field(handler, "outcome").select_option("resolved")
    field(handler, "action_taken").fill("当面致歉并加强培训")
    handler.click("button.primary")
    expect(handler.locator(".messages")).to_contain_text("已完成")
    expect(handler.locator("tr", has_text="1-101")).to_have_count(0)

    # The front desk replies; customer relations makes the return visit.
    desk.goto(f"{site.url}/")
    desk.locator("tr", has_text="1-101").locator("td.name a").click()
    field(desk, "reply").fill("已处理，向您致歉")
    field(desk, "reply_channel").select_option("phone")
    desk.click("button.primary")
    visit = site.login("relations")
    visit.locator("tr", has_text="1-101").locator("td.name a").click()
    field(visit, "satisfaction").select_option("satisfied")
    visit.click("button.primary")
    expect(visit.locator(".messages")).to_contain_text("已完成")

    # The case page: closed, every step in the timeline, the diagram drawn and marked.
    desk.goto(f"{site.url}/")
    desk.goto(f"{site.url}/cases/")
    desk.locator("tbody tr", has_text="1-101").locator("a").first.click()
    expect(desk.get_by_test_id("status")).to_have_text("已办结")
    timeline = desk.get_by_test_id("timeline")
    for step in (
        "案件登记",
        "完成「甄别有效投诉」",
        "认领",
        "完成「答复投诉人」",
        "完成「投诉回访」",
        "案件办结",
    ):
        expect(timeline).to_contain_text(step)
    expect(timeline.locator("li.task_completed")).to_have_count(4)
    expect(timeline).to_contain_text("陈女士")  # the front desk started it: contacts shown
    expect(desk.locator("#diagram[data-ready]")).to_have_count(1)
    assert desk.locator("#diagram .djs-element.pf-done").count() >= 4
    assert case_link is not None


def test_a_technician_completes_an_urgent_repair_on_a_phone(site, users):
    # One story, kept whole on purpose: the technician's visit on a phone, start to end.
    case = Case(users, "repair", as_="frontdesk", at=clock.now(), data={
        "reporter": "王先生", "phone": "13800000001", "unit": "1-102", "location": "厨房",
        "channel": "phone", "description": "水管爆裂", "area": "in_unit",
        "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
    })  # fmt: skip
    case.complete("dispatch_urgent", as_="dispatcher",
                  data={"technician": "technician", "requirements": "马上关闭总阀"})  # fmt: skip

    phone = site.login("technician", viewport={"width": 390, "height": 844})
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    row = phone.locator("tr", has_text="1-102")
    expect(row).to_contain_text("接单并到场")
    expect(row.locator("td.due")).to_contain_text("还剩")  # the urgent arrival limit ticking
    expect(row.locator("button", has_text="认领")).to_have_count(0)  # dispatched to him by name
    phone.locator("tr", has_text="1-102").locator("td.name a").click()
    field(phone, "arrival_note").fill("已到场，关闭总阀")
    phone.click("button.primary")

    expect(phone.locator(".messages")).to_contain_text("下一步")
    field(phone, "outcome").select_option("done")
    field(phone, "work_done").fill("更换爆裂水管")
    phone.locator('input[name="after_photos"]').set_input_files(
        [{"name": "after.png", "mimeType": "image/png", "buffer": PNG}]
    )
    phone.click("button.primary")
    # The owner's signature was forgotten: the error says so, the photo is kept.
    expect(phone.locator("#e-owner_signature")).to_contain_text("此项必填")
    expect(phone.locator('input[name="after_photos.kept"]')).to_have_count(1)
    phone.locator('input[name="owner_signature"]').set_input_files(
        [{"name": "sign.png", "mimeType": "image/png", "buffer": PNG}]
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "task-page-phone")
    phone.click("button.primary")
    expect(phone.locator(".messages")).to_contain_text("已完成")
    expect(phone.locator("tr", has_text="1-102")).to_have_count(0)
    shot(phone, "inbox-phone")

    recorded = case.refresh()
    assert recorded.status == "running"  # on to the return visit
    work = case.events("task_completed")[-1].data["data"]  # references to stored files
    assert [p["name"] for p in work["after_photos"]] == ["after.png"]
    assert work["owner_signature"]["type"] == "image/png"


def test_swagger_ui_and_the_admin_work_under_the_content_security_policy(site):
    User.objects.create_superuser("admin", password="pw")
    admin = site.login("admin")

    docs = admin.goto(f"{site.url}/api/docs/")
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    expect(admin.locator(".opblock").first).to_be_visible()  # its start-up script ran
    admin.goto(f"{site.url}/admin/auth/user/")
    admin.locator("#result_list a", has_text="frontdesk").click()
    expect(admin.locator("input[name=username]")).to_have_value("frontdesk")
    admin.goto(f"{site.url}/admin/axes/accessattempt/")
    expect(admin.locator("#content h1")).to_be_visible()
    admin.wait_for_load_state("networkidle")
    assert site.violations == []


def test_a_locked_out_sign_in_page_says_why_and_when(site):
    page = site.page()
    page.goto(f"{site.url}/login/")
    for _ in range(5):
        page.fill("input[name=username]", "frontdesk")
        page.fill("input[name=password]", "wrong")
        page.click("button.primary")
    expect(page.locator("p.error")).to_contain_text("登录失败次数过多，请 15 分钟后再试")
    expect(page.locator("input[name=username]")).to_have_value("frontdesk")
    page.fill("input[name=password]", "pw")  # the right one, too late
    page.click("button.primary")
    expect(page.locator("p.error")).to_contain_text("登录失败次数过多")
    assert page.url == f"{site.url}/login/"
