"""A handed-over chat leaves the sender's dashboard at once: in headless Chromium against a live daphne."""

import pytest

from reference.models import Queue
from tests.browser import MARKS, ask, claim, library, type_reply

pytestmark = MARKS

NOTE = "Looking for 1970s newspapers; the general catalogue has nothing."



def holds_nothing(desk):
    """The dashboard lists no chat of its own, counts none, and offers no reply box."""
    from playwright.sync_api import expect

    expect(desk.locator("#chat-list .chat-item")).to_have_count(0, timeout=15000)
    expect(desk.locator("#capacity-held")).to_have_text("0")
    expect(desk.locator("#composer-input")).to_be_hidden()


@pytest.mark.parametrize("to", ["colleague", "queue"])
def test_after_a_transfer_only_the_receiver_holds_the_chat(
        live_daphne, host_page, django_user_model, to, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    origin, write_page = host_page
    site, users = library(django_user_model, origin, librarians=(("siti", "Siti"), ("budi", "Budi")))
    children = Queue.objects.create(name="Anak-anak", slug="anak")
    users["budi"].librarian_profile.queues.add(children)
    service = live_daphne()
    page_url = write_page(service, site.key, lang="en")

    siti, budi = logged_in_dashboard(service, "siti", "Siti"), logged_in_dashboard(service, "budi", "Budi")
    chat = ask(new_page, page_url, "Do you keep old newspapers?")
    claim(siti, "old newspapers")
    expect(chat.locator("#status-text")).to_contain_text("Siti", timeout=15000)
    expect(siti.locator("#capacity-held")).to_have_text("1")

    siti.click("#transfer-button")
    target = f"l:{users['budi'].pk}" if to == "colleague" else f"q:{children.pk}"
    siti.select_option("#transfer-target", target)
    siti.fill("#transfer-note", NOTE)
    siti.click("#transfer-send")
    if to == "colleague":
        offer = budi.locator(".offer")
        expect(offer).to_contain_text(NOTE, timeout=15000)
        offer.get_by_role("button", name="Accept").click()
        expect(budi.locator("#capacity-held")).to_have_text("1", timeout=15000)
        type_reply(budi, "Yes, in the local history room.")
        expect(chat.locator(".msg-librarian")).to_contain_text("local history room", timeout=15000)
    else:
        waiting = budi.locator(".queue-item").filter(has_text="old newspapers")
        expect(waiting).to_have_count(1, timeout=15000)
        expect(chat.locator("#log")).to_contain_text("Anak-anak", timeout=15000)

    holds_nothing(siti)
    expect(siti.locator("#global-alerts")).to_contain_text("Budi" if to == "colleague" else "Anak-anak")
    assert "passed on" not in siti.locator("body").inner_text()  # the patron's notice is theirs
