"""The FAQ draft editor in headless Chromium: placeholders and leftovers are marked, the leftover
list explains each, and axe-core finds nothing on the page."""

from playwright.sync_api import expect

from tests.browser import MARKS, assert_accessible, library, log_in, needs_axe

pytestmark = MARKS


@needs_axe
def test_the_draft_editor_marks_what_to_check(new_page, live_daphne, django_user_model):
    from reference.faq import curation
    from reference.models import Conversation, Message, Patron, Role

    site, users = library(django_user_model)
    patron = Patron.objects.create(site=site, name="Rina Marpaung", email="rina@example.com")
    conv = Conversation.objects.create(patron=patron, site=site, queue=site.default_queue, subject="Pinjam",
                                       status=Conversation.Status.CLOSED, librarian=users["siti"])
    Message.objects.create(conversation=conv, seq=1, role=Role.PATRON,
                           text="Halo, saya Rina, wa 0812-3456-7890. Buku yang dipinjam Andi Wijaya kapan kembali?")
    Message.objects.create(conversation=conv, seq=2, role=Role.LIBRARIAN, text="Minggu depan, kode 7712 3456 789.")
    entry = curation.create_draft_from_transcript(conversation=conv, message_ids=[m.pk for m in conv.messages.all()],
                                                  editor=users["siti"])
    service = live_daphne()
    page = new_page(locale="en-US")
    log_in(page, service, "siti")
    page.wait_for_url("**/dashboard/")
    page.goto(f"{service}/staff/faq/{entry.pk}/")
    expect(page.locator("mark.redacted")).to_have_count(2)
    leftover = page.locator("mark.leftover")
    expect(leftover).to_have_count(2)
    expect(leftover.first).to_have_attribute("title", "This looks like a person's name. Replace it with [NAMA] "
                                             "unless it is an author, a title or a place.")
    expect(page.locator(".leftover-list li")).to_have_count(2)
    expect(page.get_by_text("2 places may still hold personal data")).to_be_visible()
    assert leftover.first.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    assert_accessible(page, "the FAQ draft editor with leftovers")
