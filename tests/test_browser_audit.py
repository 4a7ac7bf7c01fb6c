"""The audit trail in headless Chromium against a live daphne: a staff member with the permission
opens a transcript, then finds that opening in the trail; a bad filter is refused on the form."""

from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser import MARKS, assert_accessible, library, log_in, needs_axe

pytestmark = MARKS


@needs_axe
def test_a_staff_member_finds_the_transcript_they_just_opened_in_the_trail(new_page, live_daphne,
                                                                          django_user_model):
    from reference.models import Conversation, Message, Patron

    site, users = library(django_user_model, librarians=(("kepala", "Kepala"), ("siti", "Siti")))
    users["kepala"].user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    chat = Conversation.objects.create(
        patron=Patron.objects.create(site=site, name="Rina"), site=site, queue=site.default_queue,
        subject="Apakah ada koran lama?", status="closed", librarian=users["siti"], closed_at=timezone.now(),
        last_seq=1)
    Message.objects.create(conversation=chat, seq=1, role="patron", author_name="Rina", text="Apakah ada koran lama?")
    service = live_daphne()
    page = new_page(locale="en-US")
    log_in(page, service, "kepala")
    page.wait_for_url("**/dashboard/")

    page.goto(f"{service}/staff/transcripts/")
    page.get_by_role("link", name=f"View transcript #{chat.pk}").click()
    expect(page.get_by_role("heading", name=f"Transcript #{chat.pk}", level=1)).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Audit trail, newest first")
    opened = table.get_by_role("row").filter(has_text="Opened a transcript")
    expect(opened).to_have_count(1)
    expect(opened).to_contain_text("Kepala (kepala)")
    expect(opened.get_by_role("link", name=f"#{chat.pk}")).to_have_attribute("href", f"/staff/transcripts/{chat.pk}/")
    expect(table.get_by_role("row").filter(has_text="Read the audit trail")).to_have_count(1)  # this very reading
    assert_accessible(page, "the audit trail")

    page.get_by_label("Action").select_option(label="Opened a transcript")
    page.get_by_label("Conversation number").fill(str(chat.pk))
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(2)  # the header and the opening

    page.get_by_label("From:", exact=True).fill("2026-12-31")
    page.get_by_label("To:", exact=True).fill("2026-12-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("alert")).to_contain_text("“From” must not be after “To”.")
    expect(page.get_by_role("table")).to_have_count(0)
    assert_accessible(page, "the audit trail refusing a reversed period")
