"""The staff bar's library switch in a real browser: a librarian of two libraries switches, the staff
pages follow, and the bar still fits a 320 px screen (WCAG 1.4.10)."""

from tests.browser import MARKS, assert_accessible, library, log_in, needs_axe

pytestmark = MARKS


@needs_axe
def test_a_librarian_of_two_libraries_switches_and_the_bar_fits_320_px(live_daphne, django_user_model, new_page):
    from playwright.sync_api import expect

    from reference.models import Library, Topic

    _site, users = library(django_user_model)
    home = users["siti"].librarian_profile.library
    school = Library.objects.create(name="Perpustakaan Sekolah Harapan Bangsa Tebing Tinggi")
    users["siti"].librarian_profile.other_libraries.add(school)
    Topic.objects.create(library=home, label_id="Sejarah kota", label_en="City history")
    Topic.objects.create(library=school, label_id="Pekerjaan rumah", label_en="Homework")
    service = live_daphne()
    page = log_in(new_page(viewport={"width": 320, "height": 640}), service, "siti")
    expect(page.locator("#my-status")).to_be_visible(timeout=15000)
    page.goto(service + "/staff/topics/")
    expect(page.locator("main")).to_contain_text("Sejarah kota")
    expect(page.locator("main")).not_to_contain_text("Pekerjaan rumah")

    page.select_option("#library-select", str(school.pk))
    page.locator(".library-form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Pekerjaan rumah")
    expect(page.locator("main")).not_to_contain_text("Sejarah kota")
    expect(page.locator("#library-select")).to_have_value(str(school.pk))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    assert_accessible(page.main_frame, "the staff bar with the library switch at 320 px")
