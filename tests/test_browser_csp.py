"""The Content-Security-Policy in a real browser: the dashboard and the staff pages, the widget on
/demo/ and the admin work under it, and nothing on them is refused (new_page fails a test whose
pages' consoles report any violation; tests/browser.py)."""

from playwright.sync_api import expect

from tests.browser import MARKS, PASSWORD, WIDGET, claim_and_wait, csp_violations, library, open_launcher, type_reply

pytestmark = MARKS


def test_a_violation_is_seen_by_the_check(live_daphne, django_user_model, new_page):
    """The check itself: an inline style attribute is refused, and the console says so."""
    library(django_user_model)
    service = live_daphne()
    page = new_page()
    page.goto(f"{service}/login/")
    with page.expect_console_message(lambda message: "style-src" in message.text):
        page.evaluate("() => document.body.setAttribute('style', 'color: red')")
    assert csp_violations(page)
    csp_violations(page).clear()  # caused on purpose


def test_the_demo_widget_and_the_dashboard_work_under_the_policy(live_daphne, django_user_model, new_page,
                                                                 logged_in_dashboard):
    library(django_user_model)
    service = live_daphne()
    desk = logged_in_dashboard(service)

    patron = new_page()
    patron.goto(f"{service}/demo/")
    expect(patron.locator(f"{WIDGET} button.l")).to_be_visible()
    chat = open_launcher(patron)
    chat.locator("#q").fill("Jam buka hari Sabtu?")
    chat.locator("#start-form button[type=submit]").click()
    expect(chat.locator(".msg-patron")).to_have_count(1, timeout=15000)
    claim_and_wait(desk, chat, "Jam buka hari Sabtu")
    type_reply(desk, "Sabtu buka sampai pukul 14.00.")
    expect(chat.locator(".msg-librarian")).to_contain_text("14.00", timeout=15000)
    # The language menu's script (no inline handler any more) still switches the language.
    desk.select_option("#lang-select", "en")
    expect(desk.locator("html")).to_have_attribute("lang", "en", timeout=15000)


def test_the_staff_pages_and_the_admin_work_under_the_policy(live_daphne, django_user_model, new_page):
    site, _users = library(django_user_model)
    django_user_model.objects.create_superuser("admin", password=PASSWORD)
    service = live_daphne()
    page = new_page()
    page.goto(f"{service}/admin/login/?next=/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    for path in ["/staff/transcripts/", "/staff/offline/", "/staff/topics/", "/staff/reports/", "/staff/audit/",
                 "/staff/faq/missed/", "/staff/faq/candidates/", "/staff/patron-data/", "/faq/"]:
        page.goto(service + path)
        expect(page.locator("h1").first).to_be_visible()
    # The admin: lists with filters and actions, change forms with inlines and widgets.
    for path in ["/admin/", "/admin/auth/user/", f"/admin/widgets/site/{site.pk}/change/", "/admin/widgets/site/add/",
                 "/admin/reference/queue/add/", "/admin/auth/user/add/", "/admin/axes/accessattempt/"]:
        page.goto(service + path)
        expect(page.locator("#content")).to_be_visible()
    page.goto(f"{service}/admin/auth/user/")
    page.locator("#action-toggle").check()  # the admin's own scripts run
    expect(page.locator(".action-counter")).to_contain_text("2 of 2")


def test_a_locked_account_is_told_so_on_the_login_page(live_daphne, django_user_model, new_page, settings):
    """Under daphne (Django's async middleware path): the tenth failure locks, the page says so."""
    library(django_user_model)
    service = live_daphne()
    page = new_page(locale="en-GB")
    page.goto(f"{service}/login/?next=/dashboard/")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        page.fill("#id_username", "siti")
        page.fill("#id_password", f"salah-{attempt}")
        page.click("button[type=submit]")
        page.wait_for_load_state()
    expect(page.locator("#locked-out")).to_contain_text("locked for 15 minutes")
    page.fill("#id_password", PASSWORD)  # the right password no longer helps from here
    page.click("button[type=submit]")
    expect(page.locator("#locked-out")).to_be_visible()
    expect(page).to_have_url(f"{service}/login/")
