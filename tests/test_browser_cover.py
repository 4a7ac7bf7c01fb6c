"""Cover agreements on the dashboard and in the widget, in headless Chromium against a live daphne.

Library A (the widget's site, "Perpustakaan Kota") lets library B ("Perpustakaan Provinsi") answer
its general queue always. B's librarian sees A's patron under "Covering for Perpustakaan Kota",
takes the chat, reads A's notes for covering staff, answers (the patron reads who answers for whom),
and sends the chat back to A's queue with a note, which A's librarian then sees. Without an active
agreement, B's dashboard never shows A's chat. A chat left for A to answer by email needs the
patron's address: without one the dashboard says so and the chat stays."""

import pytest

from reference.models import CoverAgreement, LibrarianProfile, Library, Queue
from tests.browser import MARKS, PASSWORD, ask, assert_accessible, needs_axe, type_reply

pytestmark = MARKS

HOME, COVERING = "Perpustakaan Kota", "Perpustakaan Provinsi"
# A line break and something that looks like markup: both are shown as text.
POLICY = "Loans: 14 days, 5 books at most.\nThe <b>local history room</b> is upstairs."
NOTE = "The patron wants a scan of the 1958 map; only your archive has it."


def network(django_user_model, origin, *, agreement="always"):
    """Library A with the widget's site and its librarian Ani (in the site's queue); library B with its
    own queue and its librarian Budi; A's agreement letting B cover A's queue (`agreement`: "always",
    "inactive" or None). Returns (site, queue of A, agreement)."""
    from tests.browser import library

    site, _ = library(django_user_model, origin, librarians=(("ani", "Ani"),))
    home = site.library
    home.name = HOME
    home.save()
    covering = Library.objects.create(name=COVERING)
    own_queue = Queue.objects.create(name="Provinsi", slug="provinsi", library=covering)
    budi = django_user_model.objects.create_user("budi", password=PASSWORD, is_staff=True)
    LibrarianProfile.objects.create(user=budi, library=covering, display_name="Budi").queues.set([own_queue])
    deal = None
    if agreement:
        deal = CoverAgreement.objects.create(home=home, covering=covering, when=CoverAgreement.When.ALWAYS,
                                             policy_notes=POLICY, is_active=agreement != "inactive")
        deal.queues.set([site.default_queue])
    return site, site.default_queue, deal


@needs_axe
def test_a_covering_librarian_answers_and_sends_the_chat_back_with_a_note(
        live_daphne, host_page, django_user_model, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    origin, write_page = host_page
    site, _, _ = network(django_user_model, origin)
    service = live_daphne()
    page_url = write_page(service, site.key, lang="en")

    budi = logged_in_dashboard(service, "budi", "Budi")
    ani = logged_in_dashboard(service, "ani", "Ani")   # A's own librarian, on duty but busy elsewhere
    chat = ask(new_page, page_url, "Do you have the 1958 city map?", email="rina@example.org")
    expect(ani.locator("#queue-list .queue-item").filter(has_text="1958 city map")).to_have_count(1, timeout=15000)
    expect(ani.locator(".cover-group")).to_have_count(0)   # A's own chat, in A's own list

    # B's dashboard: in a section of its own, with a badge naming A.
    section = budi.locator(".cover-group")
    expect(section).to_have_count(1, timeout=15000)
    expect(section.locator(".cover-group-title")).to_have_text(f"Covering for {HOME}")
    item = section.locator(".queue-item").filter(has_text="1958 city map")
    expect(item).to_have_count(1)
    expect(item.locator(".tag-cover")).to_have_text(f"For {HOME}")
    expect(budi.locator("#queue-list .queue-item")).to_have_count(0)   # not among B's own
    assert_accessible(budi, "the dashboard with a chat waiting under “Covering for …”")

    item.get_by_role("button").click()
    expect(chat.locator("#status-text")).to_contain_text("Budi", timeout=15000)
    expect(chat.locator("#answered-by")).to_have_text(f"Answered by a librarian of {COVERING}, helping {HOME}")
    assert_accessible(chat.owner.element_handle().content_frame(), "the panel of a chat another library answers")
    expect(budi.locator(".cover-group")).to_have_count(0)

    # The chat's panel: for whom, A's notes as text with their line breaks, the ways back.
    panel = budi.locator("#cover-panel")
    expect(panel).to_be_visible(timeout=15000)
    expect(budi.locator("#cover-title")).to_have_text(f"Answering for {HOME}")
    notes = budi.locator("#cover-notes")
    expect(notes).to_have_text(POLICY)
    assert notes.locator("b").count() == 0
    assert notes.inner_text().splitlines() == POLICY.splitlines()
    expect(budi.locator("#cover-back-button")).to_have_text(f"Send back to {HOME}")
    expect(budi.locator("#cover-offline-button")).to_have_text(f"Leave for {HOME} to answer by email")
    expect(budi.locator("#chat-meta .tag-cover")).to_have_text(f"For {HOME}")

    type_reply(budi, "Yes: the local history room keeps it.")
    expect(chat.locator(".msg-librarian")).to_contain_text("local history room", timeout=15000)

    budi.click("#cover-back-button")
    expect(budi.locator("#cover-form")).to_be_visible()
    expect(budi.locator("#cover-queue-field")).to_be_hidden()   # A offers one queue back: nothing to choose
    assert_accessible(budi, "the dashboard with a covered chat open and its send-back form")
    budi.fill("#cover-note", NOTE)
    budi.click("#cover-send")
    expect(budi.locator("#chat-list .chat-item")).to_have_count(0, timeout=15000)
    expect(budi.locator("#capacity-held")).to_have_text("0")

    # A's librarian finds it back in A's own queue, with B's note, and takes it.
    waiting = ani.locator("#queue-list .queue-item").filter(has_text="1958 city map")
    expect(waiting).to_have_count(1, timeout=15000)
    expect(waiting.locator(".qi-note")).to_contain_text(NOTE)
    expect(waiting.locator(".tag-cover")).to_be_hidden()
    waiting.get_by_role("button").click()
    expect(ani.locator("#chat-notes")).to_contain_text(NOTE, timeout=15000)
    expect(ani.locator("#cover-panel")).to_be_hidden()
    expect(chat.locator("#status-text")).to_contain_text("Ani", timeout=15000)
    expect(chat.locator("#answered-by")).to_be_hidden()   # A answers its own patron again


@pytest.mark.parametrize("agreement", [None, "inactive"])
def test_without_an_agreement_another_library_never_sees_the_chat(
        live_daphne, host_page, django_user_model, new_page, logged_in_dashboard, agreement):
    from playwright.sync_api import expect

    origin, write_page = host_page
    site, _, _ = network(django_user_model, origin, agreement=agreement)
    service = live_daphne()
    page_url = write_page(service, site.key, lang="en")

    budi = logged_in_dashboard(service, "budi", "Budi")
    ani = logged_in_dashboard(service, "ani", "Ani")
    ask(new_page, page_url, "Is the reading room open on Sunday?")
    expect(ani.locator("#queue-list .queue-item").filter(has_text="reading room")).to_have_count(1, timeout=15000)

    budi.wait_for_timeout(1500)   # whatever the server would send has come by now
    expect(budi.locator(".queue-item")).to_have_count(0)
    expect(budi.locator("#cover-waiting")).to_be_empty()
    expect(budi.locator("#waiting-count")).to_have_text("0")
    assert "reading room" not in budi.locator("body").inner_text()

    budi.reload()   # nor in a fresh welcome
    expect(budi.locator(".team-item.presence-available").filter(has_text="Budi")).to_have_count(1, timeout=15000)
    expect(budi.locator(".queue-item")).to_have_count(0)
    assert "reading room" not in budi.locator("body").inner_text()


def test_leaving_a_covered_chat_for_email_needs_the_patrons_address(
        live_daphne, host_page, django_user_model, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    origin, write_page = host_page
    site, _, _ = network(django_user_model, origin)
    service = live_daphne()
    page_url = write_page(service, site.key, lang="en")

    budi = logged_in_dashboard(service, "budi", "Budi")
    for question, email in (("Can I renew a loan by phone?", ""), ("Can I reserve a study room?", "rina@example.org")):
        chat = ask(new_page, page_url, question, email=email)
        item = budi.locator(".cover-group .queue-item").filter(has_text=question)
        expect(item).to_have_count(1, timeout=15000)
        item.get_by_role("button").click()
        expect(budi.locator("#cover-title")).to_have_text(f"Answering for {HOME}", timeout=15000)
        expect(budi.locator("#chat-question")).to_have_text(question)
        budi.click("#cover-offline-button")
        expect(budi.locator("#cover-offline-help")).to_contain_text(f"offline list of {HOME}")
        expect(budi.locator("#cover-queue-field")).to_be_hidden()
        budi.fill("#cover-note", "Needs the loans desk.")
        budi.click("#cover-send")
        if not email:
            # The server's patron_email_missing message, in the form, which stays open; the chat stays.
            expect(budi.locator("#cover-status.is-error")).to_have_text(
                "The patron gave no email address: send the chat back to a queue instead.", timeout=15000)
            expect(budi.locator("#cover-form")).to_be_visible()
            expect(chat.locator("#status-text")).to_contain_text("Budi")
            budi.click("#cover-cancel")
            budi.click("#close-button")
            budi.click("#close-yes")
            expect(budi.locator("#closed-banner")).to_be_visible(timeout=15000)
            budi.click("#dismiss-button")
        else:
            expect(chat.locator("#ended")).to_be_visible(timeout=15000)
            expect(budi.locator("#global-alerts")).to_contain_text(f"offline list of {HOME}", timeout=15000)
            expect(budi.locator("#chat-list .chat-entry:not(.is-closed)")).to_have_count(0)


def test_when_the_agreement_ends_its_waiting_chats_leave_the_covering_dashboard(
        live_daphne, host_page, django_user_model, new_page, logged_in_dashboard):
    """The sweep's `cover.waiting` replaces the covered sections: an agreement switched off empties them."""
    from playwright.sync_api import expect

    origin, write_page = host_page
    site, _, deal = network(django_user_model, origin)
    service = live_daphne({"RT_HEARTBEAT_INTERVAL": "1"})   # the sweep runs on the heartbeats, every 5 s
    page_url = write_page(service, site.key, lang="en")

    budi = logged_in_dashboard(service, "budi", "Budi")
    ask(new_page, page_url, "Where can I park my bicycle?", email="rina@example.org")
    expect(budi.locator(".cover-group .queue-item").filter(has_text="bicycle")).to_have_count(1, timeout=15000)
    expect(budi.locator("#waiting-count")).to_have_text("1")
    budi.wait_for_timeout(6500)   # one sweep has sent B's list at least once

    CoverAgreement.objects.filter(pk=deal.pk).update(is_active=False)
    expect(budi.locator(".cover-group")).to_have_count(0, timeout=15000)
    expect(budi.locator("#waiting-count")).to_have_text("0")
    expect(budi.locator("#queue-empty")).to_be_visible()
