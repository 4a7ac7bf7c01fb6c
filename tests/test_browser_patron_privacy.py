"""The patron's privacy choices in headless Chromium: "Are you under 18?", the parent's notice, no
e-mail for a child's live chat (a parent's for a question left offline), and the FAQ opt-out."""

import time

from reference.models import Conversation
from tests.browser import MARKS, WIDGET, assert_accessible, needs_axe
from tests.test_patron_ux_browser import open_widget

pytestmark = MARKS


def stored_conversation():
    for _ in range(100):
        conversation = Conversation.objects.select_related("patron").first()
        if conversation is not None:
            return conversation
        time.sleep(0.1)
    raise AssertionError("no conversation was stored")


@needs_axe
def test_a_child_reads_the_parents_notice_and_asks_without_an_email(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, _users, service, page_url = library_page(lang="en", daphne_env={"RT_HEARTBEAT_INTERVAL": "1"})
    site.age_group_field, site.email_field = "required", "required"
    site.save()

    patron = new_page()
    patron.goto(page_url)
    frame = open_widget(patron)
    chat = patron.frame_locator(f"{WIDGET} iframe")
    expect(chat.locator("#desk-notice")).to_contain_text("Nobody can answer live", timeout=15000)
    group = chat.get_by_role("group", name="Are you under 18?")
    expect(group.get_by_role("radio")).to_have_count(2)
    expect(chat.locator("#parent-notice")).to_be_hidden()
    expect(chat.locator("#privacy")).to_contain_text("Files sent in a chat: 90 days")

    # The keyboard alone: to the radio group, Space picks "Under 18".
    chat.locator("#age-group-child").focus()
    patron.keyboard.press("Space")
    expect(group.get_by_role("radio", name="Under 18")).to_be_checked()
    notice = chat.locator("#parent-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("ask a parent or guardian to read this first")
    expect(notice).to_contain_text("for 30 days")
    # Nobody on duty: the answer goes by e-mail, to a parent's or guardian's address.
    expect(chat.locator("#email-label")).to_have_text("Email of a parent or guardian")
    expect(chat.locator("#email-opt")).to_be_hidden()
    expect(chat.locator("#email")).to_have_attribute("required", "")
    assert_accessible(frame, "the pre-chat form of a child when nobody is on duty")

    # A librarian comes on duty: a live chat needs no e-mail from a child, though the site asks one.
    logged_in_dashboard(service, "siti", "Siti")
    expect(chat.locator("#desk-notice")).to_be_hidden(timeout=30000)
    expect(chat.locator("#email-label")).to_have_text("Email")
    expect(chat.locator("#email-opt")).to_be_visible()
    chat.locator("#faq-opt-out").check()
    assert_accessible(frame, "the pre-chat form of a child with the parent's notice")
    chat.locator("#q").fill("Is there a comics club for children?")
    chat.locator("#start-send").click()
    expect(chat.locator(".msg-patron")).to_have_count(1)
    expect(chat.locator(".msg-patron.pending")).to_have_count(0, timeout=15000)  # stored

    conversation = stored_conversation()
    assert (conversation.age_group, conversation.patron.email, conversation.faq_opt_out) == ("child", "", True)
    assert not conversation.is_offline
