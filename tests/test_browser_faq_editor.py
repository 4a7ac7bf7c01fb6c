"""The staff FAQ editor in headless Chromium: Markdown written with the toolbar, the live preview,
topics, publishing, the public page rendering the answer, and the history read as a sentence."""

from playwright.sync_api import expect

from tests.browser import MARKS, assert_accessible, library, log_in, needs_axe

pytestmark = MARKS


def _select(textarea, text):
    textarea.evaluate("(el, text) => { const i = el.value.indexOf(text); el.focus();"
                      " el.setSelectionRange(i, i + text.length); }", text)


@needs_axe
def test_markdown_with_the_toolbar_preview_publish_and_history(new_page, live_daphne, django_user_model):
    from reference.faq import services
    from reference.faq.defaults import ensure_topics
    from reference.models import FaqEntry, FaqTopic

    library(django_user_model)
    ensure_topics(FaqTopic, FaqEntry)  # the shipped labels: an earlier test's flush removed migrate's
    services.import_records([{"slug": "opening-hours", "language": "en", "question": "When is the library open?",
                              "answer": "<p>Every <strong>weekday</strong>.</p>", "topics": ["hours"]}])
    entry = FaqEntry.objects.get(slug="opening-hours")
    service = live_daphne()
    page = new_page(locale="en-US")
    log_in(page, service, "siti")
    page.wait_for_url("**/dashboard/")
    page.goto(f"{service}/staff/faq/{entry.pk}/")

    answer = page.locator("#f-answer")
    expect(answer).to_have_value("Every **weekday**.")  # the HTML answer opened as Markdown
    toolbar = page.get_by_role("toolbar", name="Formatting")
    expect(toolbar).to_be_visible()
    answer.fill("Opening hours\n\nWe open on weekdays.\n\nMonday\nTuesday\n\nSee ")
    _select(answer, "Opening hours")
    toolbar.get_by_role("button", name="Heading").click()
    _select(answer, "weekdays")
    toolbar.get_by_role("button", name="Bold").click()
    _select(answer, "Monday\nTuesday")
    toolbar.get_by_role("button", name="Bulleted list").click()
    answer.evaluate("el => el.setSelectionRange(el.value.length, el.value.length)")
    toolbar.get_by_role("button", name="Link").click()  # "https://" is selected, to type over
    page.keyboard.type("https://perpustakaan.go.id/jadwal")
    expect(answer).to_have_value("## Opening hours\n\nWe open on **weekdays**.\n\n- Monday\n- Tuesday\n\n"
                                 "See [link text](https://perpustakaan.go.id/jadwal)")

    preview = page.locator("#answer-preview")
    expect(preview.locator("h2")).to_have_text("Opening hours")
    expect(preview.locator("strong")).to_have_text("weekdays")
    expect(preview.locator("li")).to_have_text(["Monday", "Tuesday"])
    expect(preview.locator('a[href="https://perpustakaan.go.id/jadwal"]')).to_have_text("link text")

    page.get_by_label("Loans", exact=True).check()
    assert_accessible(page, "the FAQ editor")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    sentence = page.locator(".faq-history li").first
    expect(sentence).to_contain_text("Published by Siti on ")
    expect(sentence).to_contain_text("the answer gained 5 sentences and lost 1; topics: added Loans.")

    entry.refresh_from_db()
    assert entry.answer_source.startswith("## Opening hours\n\nWe open") and set(entry.topics) == {"hours", "loans"}
    page.goto(f"{service}/faq/opening-hours/")
    expect(page.locator("h2", has_text="Opening hours")).to_be_visible()
    expect(page.locator("strong", has_text="weekdays")).to_be_visible()
    expect(page.locator('a[href="https://perpustakaan.go.id/jadwal"]')).to_be_visible()


def test_the_preview_shows_a_refusal(new_page, live_daphne, django_user_model):
    from reference.faq import services
    from reference.faq.answers import MAX_SOURCE_LENGTH

    library(django_user_model)
    entry = services.save_entry(slug="draft", language="en", question="Q?", answer_source="Short.")
    service = live_daphne()
    page = new_page(locale="en-US")
    log_in(page, service, "siti")
    page.wait_for_url("**/dashboard/")
    page.goto(f"{service}/staff/faq/{entry.pk}/")
    page.locator("#f-answer").fill("a" * (MAX_SOURCE_LENGTH + 1))
    expect(page.locator("#preview-status")).to_have_text(
        f"The answer is too long (at most {MAX_SOURCE_LENGTH} characters).")
    expect(page.locator("#answer-preview")).to_have_text("Short.")  # the last good preview stays
