"""The whole loop in headless Chromium: a host page on another origin, a patron, a librarian."""

from tests.browser import MARKS, claim, claim_and_wait, close_chat, library, log_in, open_launcher, type_reply

pytestmark = MARKS


def test_patron_asks_librarian_answers_transcript_kept(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, _users, service, page_url = library_page(lang="en", greeting="Halo!")

    desk = logged_in_dashboard(service, "siti", "Siti")  # on duty before the patron comes
    patron = new_page()
    patron.goto(page_url)
    chat = open_launcher(patron)
    chat.locator("#q").fill("Is the library open on Sunday?")
    chat.locator("#name").fill("Rina")
    chat.locator("#start-form button[type=submit]").click()
    expect(chat.locator(".msg-patron")).to_have_count(1)
    expect(chat.locator("#status-text")).to_have_text("You are number 1 in the queue")
    expect(chat.locator("#auto-greeting")).to_contain_text("A librarian will be with you")

    claim_and_wait(desk, chat, "Is the library open on Sunday?")

    type_reply(desk, "Yes, from 9 to 3. See https://example.org/hours")
    reply = chat.locator(".msg-librarian")
    expect(reply).to_contain_text("Yes, from 9 to 3.", timeout=15000)
    expect(reply.locator("a")).to_have_attribute("href", "https://example.org/hours")

    close_chat(desk)
    expect(chat.locator("#ended")).to_be_visible(timeout=15000)

    desk.goto(f"{service}/staff/transcripts/")
    row = desk.locator("tr").filter(has_text="Is the library open on Sunday?")
    expect(row).to_have_count(1)
    row.locator("a[href*='/staff/transcripts/']").click()
    body = desk.locator("main")
    expect(body).to_contain_text("Is the library open on Sunday?")
    expect(body).to_contain_text("Yes, from 9 to 3.")


def test_a_patron_cut_off_the_network_loses_nothing(library_page, new_page, logged_in_dashboard):
    """Both sides keep typing while the patron is offline; afterwards both transcripts match."""
    from playwright.sync_api import expect

    from reference.models import Message

    site, _users, service, page_url = library_page(lang="en", daphne_env={"RT_HEARTBEAT_INTERVAL": "1"})
    patron_lines = ["Is the library open on Sunday?", "Hello?", "Are you still there?"]
    librarian_lines = ["Yes, from 9 to 3.", "And on holidays it is closed."]

    desk = logged_in_dashboard(service, "siti", "Siti")
    patron = new_page()
    patron_context = patron.context
    patron.goto(page_url)
    chat = open_launcher(patron)
    chat.locator("#q").fill(patron_lines[0])
    chat.locator("#start-form button[type=submit]").click()

    claim(desk, patron_lines[0])
    expect(chat.locator("#status-text")).to_contain_text("Siti", timeout=15000)

    patron_context.set_offline(True)
    expect(chat.locator("#banner")).to_be_visible(timeout=15000)  # "Reconnecting…"
    for line in patron_lines[1:]:
        chat.locator("#msg").fill(line)
        chat.locator("#msg").press("Enter")
    expect(chat.locator(".msg-patron.pending")).to_have_count(2)
    for line in librarian_lines:
        type_reply(desk, line)
    expect(desk.locator(".msg-librarian .msg-body")).to_have_count(2, timeout=15000)

    patron_context.set_offline(False)
    expect(chat.locator("#banner")).to_be_hidden(timeout=30000)
    expect(chat.locator(".msg-patron.pending")).to_have_count(0, timeout=15000)
    chat_texts = chat.locator("#log li:not(.msg-system) .bubble")
    desk_texts = desk.locator(".message-list li:not(.msg-system) .msg-body")
    expected = [patron_lines[0], *librarian_lines, *patron_lines[1:]]
    expect(chat_texts).to_have_count(5, timeout=15000)
    expect(desk_texts).to_have_count(5, timeout=15000)
    assert sorted(chat_texts.all_inner_texts()) == sorted(expected)
    shown = chat_texts.all_inner_texts()
    assert shown == desk_texts.all_inner_texts()  # in the same order too
    # Read receipts both ways: the panel is open, the dashboard shows the chat.
    expect(desk.locator(".msg-read")).to_be_visible(timeout=15000)
    expect(chat.locator(".state.read")).to_be_visible(timeout=15000)

    # Another page of the library's site: the same conversation, all of it.
    patron.goto(page_url + "?page=2")
    chat = open_launcher(patron)
    expect(chat.locator("#log li:not(.msg-system) .bubble")).to_have_count(5, timeout=15000)
    assert chat.locator("#log li:not(.msg-system) .bubble").all_inner_texts() == shown
    assert list(Message.objects.exclude(role="system").order_by("seq").values_list("text", flat=True)) == shown


def test_librarians_see_each_others_presence_live(live_daphne, django_user_model, new_page):
    from playwright.sync_api import expect

    library(django_user_model, librarians=(("siti", "Siti"), ("budi", "Budi")))
    service = live_daphne()

    desks = {}
    for username in ("siti", "budi"):
        desks[username] = log_in(new_page(), service, username)
    budi_seen_by_siti = desks["siti"].locator(".team-item").filter(has_text="Budi")
    expect(budi_seen_by_siti).to_have_class("team-item presence-available", timeout=15000)
    expect(budi_seen_by_siti).to_contain_text("0 of 3 chats")

    desks["budi"].select_option("#capacity-max", "5")  # Budi can take more at once
    expect(budi_seen_by_siti).to_contain_text("0 of 5 chats", timeout=15000)

    desks["budi"].select_option("#my-status", "away")
    expect(budi_seen_by_siti).to_have_class("team-item presence-away", timeout=15000)

    desks["budi"].context.close()  # the tab is gone
    expect(budi_seen_by_siti).to_have_class("team-item presence-offline", timeout=15000)


def test_a_librarian_transfers_a_chat_to_a_colleague_while_the_patron_watches(
        library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, users, service, page_url = library_page(lang="en", librarians=(("siti", "Siti"), ("budi", "Budi")))
    note = "Looking for 1970s newspapers; the general catalogue has nothing."

    siti, budi = logged_in_dashboard(service, "siti", "Siti"), logged_in_dashboard(service, "budi", "Budi")
    patron = new_page()
    patron.goto(page_url)
    chat = open_launcher(patron)
    chat.locator("#q").fill("Do you keep old newspapers?")
    chat.locator("#start-form button[type=submit]").click()

    claim(siti, "old newspapers")
    expect(chat.locator("#status-text")).to_contain_text("Siti", timeout=15000)
    expect(siti.locator(".team-item.presence-available").filter(has_text="Budi")).to_have_count(1)

    siti.click("#transfer-button")
    siti.select_option("#transfer-target", f"l:{users['budi'].pk}")
    siti.fill("#transfer-note", note)
    siti.click("#transfer-send")
    expect(siti.locator("#transfer-pending")).to_contain_text("Budi", timeout=15000)

    offer = budi.locator(".offer")
    expect(offer).to_contain_text(note, timeout=15000)
    offer.get_by_role("button", name="Accept").click()
    expect(budi.locator("#chat-notes")).to_contain_text(note, timeout=15000)
    expect(budi.locator(".message-list")).to_contain_text("Do you keep old newspapers?")
    expect(siti.locator("#global-alerts")).to_contain_text("now with Budi", timeout=15000)

    expect(chat.locator("#status-text")).to_contain_text("Budi", timeout=15000)
    expect(chat.locator("#log")).to_contain_text("Budi has taken over the chat.")
    type_reply(budi, "Yes, in the local history room.")
    expect(chat.locator(".msg-librarian")).to_contain_text("Yes, in the local history room.", timeout=15000)
    assert note not in chat.locator("body").inner_text()


def test_nobody_on_duty_the_patron_leaves_a_question_and_a_librarian_answers(
        library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    from reference.models import Message

    site, _users, service, page_url = library_page(lang="en")

    patron = new_page()
    patron.goto(page_url)
    chat = open_launcher(patron)
    expect(chat.locator("#desk-notice")).to_contain_text("Nobody can answer live right now", timeout=15000)
    chat.locator("#q").fill("Can I renew a book by phone?")
    chat.locator("#start-send").click()  # no email yet: the browser asks for it, nothing is sent
    expect(chat.locator("#email:invalid")).to_have_count(1)
    chat.locator("#email").fill("rina@example.org")
    expect(chat.locator("#start-send")).to_have_text("Leave my question")
    chat.locator("#start-send").click()
    expect(chat.locator("#ended-text")).to_have_text(
        "Your question has been sent. The answer will come by email.", timeout=15000)

    desk = logged_in_dashboard(service, "siti", "Siti")
    desk.goto(f"{service}/staff/offline/")
    question = desk.locator(".offline-question").filter(has_text="Can I renew a book by phone?")
    question.locator("textarea").fill("Yes: call 0621-21000 during opening hours.")
    question.get_by_role("button").click()
    expect(desk.locator(".notice-success")).to_be_visible()
    expect(desk.locator(".offline-question")).to_have_count(0)
    answer = Message.objects.filter(role="librarian").get()
    assert answer.text == "Yes: call 0621-21000 during opening hours."  # kept in the transcript
