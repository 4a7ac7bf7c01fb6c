"""Transcript search in headless Chromium against a live daphne: a librarian finds a chat by an
informal spelling of a word it holds in another form, reads what the box matches, and is told why a
query of punctuation alone cannot be searched."""

from django.utils import timezone
from playwright.sync_api import expect

from tests.browser import MARKS, assert_accessible, library, log_in, needs_axe

pytestmark = MARKS


def closed_chat(site, librarian, question):
    from reference.models import Conversation, Message, Patron
    from reference.transcript_search import terms_for

    chat = Conversation.objects.create(
        patron=Patron.objects.create(site=site, name="Rina"), site=site, queue=site.default_queue,
        subject=question, status="closed", librarian=librarian, closed_at=timezone.now(), last_seq=1)
    Message.objects.create(conversation=chat, seq=1, role="patron", author_name="Rina", text=question,
                           search_terms=terms_for(question))  # as reference.messaging stores it
    return chat


@needs_axe
def test_a_librarian_finds_a_chat_by_an_informal_spelling_and_reads_why_a_query_is_refused(
        new_page, live_daphne, django_user_model):
    site, users = library(django_user_model)
    wanted = closed_chat(site, users["siti"], "Bagaimana cara meminjam novel lama?")
    closed_chat(site, users["siti"], "Jam buka hari Sabtu?")
    service = live_daphne()
    page = new_page(locale="en-US")
    log_in(page, service, "siti")
    page.wait_for_url("**/dashboard/")

    page.goto(f"{service}/staff/transcripts/")
    box = page.get_by_label("Text:", exact=True)
    expect(box).to_have_accessible_description("Finds chats that hold all these words, in any of their forms and "
                                               "in either language: “pinjam” also finds “meminjam” and “peminjaman”; "
                                               "the informal “minjem” finds “pinjam”.")
    box.fill("minjem novel")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("heading", name="1 conversation")).to_be_visible()
    expect(page.get_by_role("link", name=f"View transcript #{wanted.pk}")).to_be_visible()
    assert_accessible(page, "the transcript list, searched")

    page.get_by_label("Text:", exact=True).fill("?!")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Nothing to search for")).to_be_visible()
    assert_accessible(page, "the transcript list, a query it cannot search")
