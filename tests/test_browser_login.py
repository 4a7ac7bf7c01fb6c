"""The login page in headless Chromium: an account without staff status is told why it cannot get in."""

from playwright.sync_api import expect

from tests.browser import MARKS, PASSWORD, assert_accessible, library, log_in, needs_axe

pytestmark = MARKS


@needs_axe
def test_the_refusal_in_a_browser(new_page, live_daphne, django_user_model):
    library(django_user_model)
    django_user_model.objects.create_user("tamu", password=PASSWORD, is_staff=False)
    page = new_page(locale="id-ID")
    log_in(page, live_daphne(), "tamu")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("tamu")
    expect(alert).to_contain_text("Status staf")
    assert page.url.split("?")[0].endswith("/login/")
    assert_accessible(page, "the login page refusing an account without staff status")
