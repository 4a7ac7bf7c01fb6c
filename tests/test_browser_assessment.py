"""Topics and the READ scale in headless Chromium against a live daphne: a library that requires
them keeps the chat open until the librarian tags it, the topics page starts from the FAQ, and
axe-core checks both pages in these states."""


from reference.models import Conversation, Library, Topic
from tests.browser import MARKS, PASSWORD, ask, assert_accessible, claim_and_wait, close_chat, needs_axe

pytestmark = MARKS



@needs_axe
def test_a_required_assessment_keeps_the_chat_open_until_tagged(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, users, service, page_url = library_page(lang="en")
    Library.objects.filter(pk=site.library_id).update(assessment=Library.Assessment.REQUIRED)
    for label_id, label_en in [("Keanggotaan", "Membership"), ("Sejarah lokal", "Local history"),
                               ("Peminjaman", "Loans")]:
        Topic.objects.create(library_id=site.library_id, label_id=label_id, label_en=label_en)
    desk = logged_in_dashboard(service)
    chat = ask(new_page, page_url, "How do I become a member?")
    claim_and_wait(desk, chat, "become a member")

    section = desk.locator("#assessment")
    expect(section).to_be_visible()
    expect(desk.locator("#assessment-required")).to_be_visible()
    close_chat(desk)
    expect(desk.locator("#chat-alerts")).to_contain_text("READ", timeout=15000)
    expect(section).to_be_focused()
    expect(desk.locator("#assessment-body")).to_be_visible()
    expect(desk.locator("#close-button")).to_be_visible()  # still open
    assert Conversation.objects.get().status == "active"

    desk.fill("#assessment-filter", "anggota")
    expect(desk.locator("#assessment-topic-list li:visible")).to_have_count(1)
    desk.get_by_label("Keanggotaan").check()
    expect(desk.locator("#assessment-status")).to_have_text("Saved.", timeout=15000)
    desk.locator("#read-2").focus()   # a keyboard user reads the level's explanation
    expect(desk.locator("#read-tip-2")).to_be_visible()
    assert_accessible(desk, "the dashboard with a chat's Assessment open and a READ tooltip shown")
    desk.keyboard.press("Escape")
    expect(desk.locator("#read-tip-2")).to_be_hidden()
    desk.locator("#read-tip-2 + *, label[for=read-2]").first.click()
    desk.select_option("#assessment-type", "policy")
    expect(desk.locator("#assessment-summary")).to_contain_text("READ 2", timeout=15000)
    expect(desk.locator("#assessment-status")).to_have_text("Saved.", timeout=15000)

    close_chat(desk)
    expect(desk.locator("#closed-banner")).to_be_visible(timeout=15000)
    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.read_scale, conversation.question_type) == ("closed", 2, "policy")
    assert list(conversation.topics.values_list("label_en", flat=True)) == ["Membership"]
    assert "READ" not in chat.locator("body").inner_text()  # the patron sees none of it


@needs_axe
def test_the_topics_page_starts_from_the_faq(library_page, new_page, django_user_model):
    from playwright.sync_api import expect

    from reference.faq.models import FaqEntry

    site, users, service, page_url = library_page()
    django_user_model.objects.create_superuser("kepala", password=PASSWORD)
    FaqEntry.objects.create(slug="jam", question="Jam buka?", answer="08.00", topics=["hours", "local-history"],
                            status=FaqEntry.Status.PUBLISHED)
    page = new_page(locale="en-GB")
    page.goto(f"{service}/login/?next=/staff/topics/")
    page.fill("#id_username", "kepala")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Topics")
    assert_accessible(page, "the empty topics page")

    page.get_by_role("button", name="Start from the FAQ’s topics").click()
    rows = page.locator(".topics-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Hours")
    page.fill("#id_new-label_id", "hours")
    page.fill("#id_new-label_en", "Opening hours")
    page.locator(".topic-add button[type=submit]").click()
    expect(page.locator("#id_new-label_id_errors")).to_be_visible()
    expect(page.locator("#id_new-label_id")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "the topics page with a duplicate label refused")
    assert Topic.objects.count() == 2


def test_a_topic_staff_add_reaches_an_open_dashboard_without_a_reload(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, users, service, page_url = library_page(lang="en")
    Topic.objects.create(library_id=site.library_id, label_id="Keanggotaan", label_en="Membership")
    users["siti"].is_superuser = True  # may keep the topics as well as answer
    users["siti"].save()
    desk = logged_in_dashboard(service)
    chat = ask(new_page, page_url, "Do you have old maps of the city?")
    claim_and_wait(desk, chat, "old maps")
    desk.click("#assessment-toggle")
    expect(desk.locator("#assessment-topic-list li")).to_have_count(1)

    keeper = desk.context.new_page()  # the same librarian, in another tab
    keeper.goto(f"{service}/staff/topics/")
    keeper.fill("#id_new-label_id", "Peta dan sejarah lokal")
    keeper.fill("#id_new-label_en", "Maps and local history")
    keeper.locator(".topic-add button[type=submit]").click()
    expect(keeper.locator(".topics-table tbody tr")).to_have_count(2)

    expect(desk.locator("#assessment-topic-list li")).to_have_count(2, timeout=15000)
    desk.get_by_label("Maps and local history").check()
    expect(desk.locator("#assessment-status")).to_have_text("Saved.", timeout=15000)
    assert list(Conversation.objects.get().topics.values_list("label_en", flat=True)) == ["Maps and local history"]
