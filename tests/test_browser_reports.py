"""The report page in headless Chromium against a live daphne: figures, charts and tables, a bad
period refused with its reason, a CSV download, asking for the monthly summary, and a librarian
without the manager permission seeing their own figures."""

import datetime as dt
import json

from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser import MARKS, assert_accessible, library, log_in, needs_axe

pytestmark = MARKS


def _chats(site, librarian, count):
    from reference.models import Conversation, Patron

    now = timezone.now()
    for n in range(count):
        created = now - dt.timedelta(days=n % 5, hours=1)
        conversation = Conversation.objects.create(
            patron=Patron.objects.create(site=site), site=site, queue=site.default_queue, subject="Jam buka?",
            status="closed", librarian=librarian, first_assigned_at=created + dt.timedelta(seconds=40),
            first_response_at=created + dt.timedelta(seconds=90), closed_at=created + dt.timedelta(minutes=10),
            rating=4 + n % 2, rated_at=created + dt.timedelta(minutes=11),
            rating_comment="Terima kasih, sangat membantu" if n == 0 else "")
        Conversation.objects.filter(pk=conversation.pk).update(created_at=created)


@needs_axe
def test_a_manager_reads_the_report_and_downloads_a_table(new_page, live_daphne, django_user_model):
    site, users = library(django_user_model, librarians=(("kepala", "Kepala"), ("siti", "Siti")))
    users["kepala"].user_permissions.add(Permission.objects.get(codename="view_desk_reports"))
    _chats(site, users["siti"], 6)
    service = live_daphne()
    page = new_page(locale="en-US")
    log_in(page, service, "kepala")
    page.wait_for_url("**/dashboard/")
    page.goto(f"{service}/staff/reports/")

    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    started = page.locator(".figure-card").filter(has_text="Chats started")
    expect(started.locator(".figure-value")).to_have_text("6")
    expect(page.locator(".report-daily svg.chart")).to_be_visible()
    expect(page.locator(".report-hours svg.chart")).to_be_visible()
    expect(page.locator(".report-librarians table").get_by_role("rowheader", name="Siti")).to_be_visible()
    comment = page.locator(".report-comments table").get_by_role("link")
    expect(comment).to_have_attribute("href", f"/staff/transcripts/{_first_rated_pk()}/")
    assert_accessible(page, "the report page")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download “Chats by day” (CSV)").click()
    body = open(download.value.path(), "rb").read()
    assert body.startswith("\ufeffDay,Chats started,Answered".encode())
    assert body.count(b"\r\n") == 31  # the header and 30 days

    with page.expect_download() as download:
        page.get_by_role("link", name="JSON").click()
    export = json.load(open(download.value.path(), encoding="utf-8"))
    assert len(export["conversations"]) == 6

    page.get_by_label("From:", exact=True).fill("2026-12-31")
    page.get_by_label("To:", exact=True).fill("2026-12-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("“From” must not be after “To”.")
    expect(page.locator(".figure-card")).to_have_count(0)
    assert_accessible(page, "the report page refusing a reversed period")

    page.get_by_role("link", name="Last 30 days").click()
    page.get_by_label("Send me the desk's figures for each month").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#summary-subscription").get_by_role("status")).to_contain_text(
        "once your account has an e-mail address")
    expect(page.get_by_label("Send me the desk's figures for each month")).to_be_checked()


def _first_rated_pk():
    from reference.models import Conversation
    return Conversation.objects.exclude(rating_comment="").values_list("pk", flat=True).get()


def test_a_librarian_sees_their_own_figures(new_page, live_daphne, django_user_model):
    site, users = library(django_user_model, librarians=(("siti", "Siti"), ("budi", "Budi")))
    _chats(site, users["siti"], 3)
    _chats(site, users["budi"], 2)
    service = live_daphne()
    page = new_page(locale="en-US")
    log_in(page, service, "budi")
    page.wait_for_url("**/dashboard/")
    page.goto(f"{service}/staff/reports/")
    expect(page.get_by_text("These are your own figures")).to_be_visible()
    expect(page.get_by_label("Librarian:", exact=True)).to_have_count(0)
    started = page.locator(".figure-card").filter(has_text="Chats started")
    expect(started.locator(".figure-value")).to_have_text("2")
    expect(page.locator(".report-librarians table").get_by_role("rowheader")).to_have_text(["Budi"])
