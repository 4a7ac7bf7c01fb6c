"""A patron's rights in headless Chromium against a live daphne: a staff member finds one
patron's records by e-mail, downloads them, and erases them; the file leaves the storage."""

import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from tests.browser import MARKS, assert_accessible, library, log_in, needs_axe

pytestmark = MARKS


def _in_thread(function, **arguments):
    from django.db import connection

    try:
        return function(**arguments)
    finally:
        connection.close()


@needs_axe
def test_a_staff_member_finds_exports_and_erases_one_patrons_data(new_page, live_daphne, django_user_model,
                                                                  settings, tmp_path):
    from reference.models import AuditEvent, Conversation
    from reference.tokens import PatronIdentity
    from tests.privacy_data import full_chat

    settings.MEDIA_ROOT = str(tmp_path)
    site, users = library(django_user_model, librarians=(("siti", "Siti"), ("dewi", "Dewi"), ("pdp", "Petugas")))
    site.card_field = "optional"
    site.save()
    users["pdp"].user_permissions.add(Permission.objects.get(codename="manage_patron_data"))
    # The services fan out through the channel layer, which cannot run on the browser's loop: a thread.
    with ThreadPoolExecutor(1) as pool:
        chat = pool.submit(_in_thread, full_chat, identity=PatronIdentity(site_key=site.key, patron_id=uuid.uuid4()),
                           librarian=users["siti"], colleague=users["dewi"]).result()
    assert list(tmp_path.rglob("*.png"))

    service = live_daphne(env_extra={"MEDIA_ROOT": str(tmp_path)})
    page = new_page(locale="en-US")
    log_in(page, service, "pdp")
    page.wait_for_url("**/dashboard/")
    page.get_by_role("link", name="Patron data").click()
    expect(page.get_by_role("heading", name="A patron's data", level=1)).to_be_visible()

    page.get_by_label("Conversation number").fill("12x")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("alert")).to_contain_text("digits only")
    assert_accessible(page, "the patron data page refusing a bad number")

    page.get_by_label("Conversation number").fill("")
    page.get_by_label("Email").fill("Rina.Sitepu@gmail.com")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", name="1 conversation found")).to_be_visible()
    expect(page.get_by_role("link", name=f"#{chat.pk}")).to_be_visible()
    assert_accessible(page, "the patron's records")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download their data").click()
    archive = zipfile.ZipFile(download.value.path())
    assert "Rina Sitepu" in archive.read("README.txt").decode()
    assert any(name.endswith("ktp-saya.png") for name in archive.namelist())

    page.get_by_role("button", name="Erase their data").click()  # not confirmed: the browser asks
    expect(page.get_by_label("I have checked that these are the records of the person who asked.")).to_be_focused()
    page.get_by_label("I have checked that these are the records of the person who asked.").check()
    page.get_by_role("button", name="Erase their data").click()
    # (the duty bar is a status too)
    expect(page.get_by_role("status").filter(has_text="Erased.")).to_contain_text(
        "Conversations anonymised: 1; files deleted: 1")
    conversation = Conversation.objects.get(pk=chat.pk)
    assert conversation.patron_id is None and conversation.anonymised_at is not None
    assert not list(tmp_path.rglob("*.png"))
    assert list(AuditEvent.objects.filter(user=users["pdp"]).order_by("pk").values_list("action", flat=True)) == [
        "find_patron", "export_patron", "erase_patron"]
