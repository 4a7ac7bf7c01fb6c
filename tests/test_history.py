"""A returning patron's earlier chats (reference.history): the same widget identity, e-mail address or
library card number, in the same library only, within its retention; opened over HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reference import history, lifecycle, notes, selectors
from reference.messaging import do_send_librarian_message
from reference.models import Conversation, Library, LibraryCard, Message, Patron
from tests.starting import held_chat
from widgets.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def earlier(site, queue, librarian):
    """`earlier(patron, subject, days_ago=…, rating=…)`: a closed chat Siti answered that long ago."""
    def make(patron, subject, *, days_ago=1, rating=None, on_site=None):
        on_site = on_site or patron.site
        conversation = Conversation.objects.create(
            patron=patron, site=on_site, queue=queue, subject=subject, status=Conversation.Status.CLOSED,
            librarian=librarian, rating=rating, closed_at=timezone.now(), last_seq=2)
        Message.objects.create(conversation=conversation, seq=1, role="patron", text=subject)
        Message.objects.create(conversation=conversation, seq=2, role="librarian", author=librarian,
                               author_name="Siti", text="Jawaban untuk " + subject)
        Conversation.objects.filter(pk=conversation.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
        conversation.refresh_from_db()
        return conversation
    return make


def patron_on(site, *, email="", card="", name="Rina"):
    patron = Patron.objects.create(site=site, name=name, email=email)
    if card:
        LibraryCard.objects.create(patron=patron, number=card)
    return patron


@pytest.fixture
def returning(identity, librarian):
    """The patron of `identity` asks again today and Siti holds the chat."""
    def make(**fields):
        return held_chat(identity=identity, librarian=librarian, text="Pertanyaan hari ini", **fields)
    return make


def subjects(conversations):
    return [c.subject for c in conversations]


def test_the_same_widget_identity_newest_first_and_never_this_chat(identity, site, earlier, returning):
    patron = Patron.objects.create(pk=identity.patron_id, site=site, name="Rina")
    earlier(patron, "Minggu lalu", days_ago=7, rating=5)
    earlier(patron, "Kemarin", days_ago=1)
    now = returning()
    found = history.patron_history(now)
    assert subjects(found) == ["Kemarin", "Minggu lalu"]
    assert now.pk not in [c.pk for c in found]
    lifecycle.do_close_by_librarian(user=now.librarian, conversation_id=now.pk)
    assert subjects(history.patron_history(found[0])) == ["Minggu lalu"]  # only chats before it


def test_the_same_email_case_insensitive_or_the_same_card_on_another_identity(site, earlier, returning):
    earlier(patron_on(site, email="Rina@Example.org"), "Dengan email", days_ago=3)
    earlier(patron_on(site, card="1234-5678"), "Dengan kartu", days_ago=2)
    earlier(patron_on(site, email="orang.lain@example.org", card="9999"), "Orang lain", days_ago=1)
    earlier(patron_on(site), "Tanpa email", days_ago=1)  # an empty address matches nobody
    now = returning(email="rina@example.ORG")
    LibraryCard.objects.create(patron=now.patron, number="1234-5678")
    now = Conversation.objects.select_related("patron__library_card").get(pk=now.pk)
    assert subjects(history.patron_history(now)) == ["Dengan kartu", "Dengan email"]


def test_never_another_librarys_chats(identity, site, queue, earlier, returning):
    other = Library.objects.create(name="Perpustakaan Provinsi")
    other_site = Site.objects.create(name="Provinsi", key="provinsi", default_queue=queue, library=other,
                                     allowed_origins="https://provinsi.example")
    same_site_elsewhere = Site.objects.create(name="Cabang", key="cabang", default_queue=queue,
                                              library=site.library, allowed_origins="https://cabang.example")
    earlier(patron_on(other_site, email="rina@example.org", card="1234"), "Di perpustakaan lain", days_ago=2)
    earlier(patron_on(same_site_elsewhere, email="rina@example.org"), "Di cabang", days_ago=1)
    patron = Patron.objects.create(pk=identity.patron_id, site=site, name="Rina")
    earlier(patron, "Dari situs lain, identitas sama", days_ago=4, on_site=other_site)
    now = returning(email="rina@example.org")
    LibraryCard.objects.create(patron=now.patron, number="1234")
    now = Conversation.objects.select_related("patron__library_card").get(pk=now.pk)
    assert subjects(history.patron_history(now)) == ["Di cabang"]


def test_only_within_the_librarys_retention(identity, site, earlier, returning, librarian, client):
    patron = Patron.objects.create(pk=identity.patron_id, site=site, name="Rina")
    old = earlier(patron, "Tahun lalu", days_ago=400)
    earlier(patron, "Bulan lalu", days_ago=30)
    now = returning()
    assert subjects(history.patron_history(now)) == ["Bulan lalu"]  # the default period: 365 days
    Library.objects.filter(pk=site.library_id).update(retention_days=None)
    assert subjects(history.patron_history(now)) == ["Bulan lalu", "Tahun lalu"]  # no retention: all
    Library.objects.filter(pk=site.library_id).update(retention_days=90)
    assert subjects(history.patron_history(now)) == ["Bulan lalu"]
    client.force_login(librarian)
    assert client.get(f"/staff/history/{now.pk}/{old.pk}/").status_code == 404  # nor opened by its number


def test_the_new_holder_sees_the_history_with_date_queue_librarian_question_and_rating(
        identity, site, earlier, returning, librarian):
    patron = Patron.objects.create(pk=identity.patron_id, site=site, name="Rina")
    before = earlier(patron, "Jam buka Lebaran?", days_ago=2, rating=4)
    now = returning()
    (held,) = selectors.librarian_welcome(librarian, queue_ids=[now.queue_id], since={})["conversations"]
    assert held["history"]["count"] == 1
    (shown,) = held["history"]["recent"]
    assert shown == {"id": before.pk, "status": "closed", "created_at": before.created_at.isoformat(),
                     "queue": "Umum", "librarian": "Siti", "question": "Jam buka Lebaran?", "rating": 4,
                     "offline": False}


def test_the_dashboard_lists_the_newest_and_counts_them_all(identity, site, earlier, returning, librarian):
    patron = Patron.objects.create(pk=identity.patron_id, site=site, name="Rina")
    for day in range(1, history.SHOWN + 3):
        earlier(patron, f"Hari ke-{day}", days_ago=day)
    now = returning()
    (held,) = selectors.librarian_welcome(librarian, queue_ids=[now.queue_id], since={})["conversations"]
    assert held["history"]["count"] == history.SHOWN + 2
    assert [c["question"] for c in held["history"]["recent"]] == [f"Hari ke-{d}" for d in range(1, history.SHOWN + 1)]


# ---- one earlier chat, over HTTP

def test_an_earlier_chat_opens_with_its_messages_notes_and_rating(identity, site, earlier, returning, librarian,
                                                                  client):
    patron = Patron.objects.create(pk=identity.patron_id, site=site, name="Rina")
    before = earlier(patron, "Jam buka Lebaran?", rating=5)
    Conversation.objects.filter(pk=before.pk).update(rating_comment="Cepat sekali!")
    notes.do_add_note(user=librarian, conversation_id=before.pk, text="Dijawab dari pengumuman.")
    now = returning()
    notes.do_add_note(user=librarian, conversation_id=now.pk, text="Catatan obrolan sekarang")
    client.force_login(librarian)
    answer = client.get(f"/staff/history/{now.pk}/{before.pk}/")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["conversation"]["id"], body["conversation"]["rating"], body["rating_comment"]) == (
        before.pk, 5, "Cepat sekali!")
    assert [(m["seq"], m["text"]) for m in body["messages"]] == [
        (1, "Jam buka Lebaran?"), (2, "Jawaban untuk Jam buka Lebaran?")]
    assert [n["text"] for n in body["notes"]] == ["Dijawab dari pengumuman."]
    assert answer["Cache-Control"].startswith("max-age=0")
    assert [m["file_removed"] for m in body["messages"]] == [False, False]


def test_an_earlier_chat_says_when_its_file_was_removed(identity, site, earlier, returning, librarian, client):
    patron = Patron.objects.create(pk=identity.patron_id, site=site, name="Rina")
    before = earlier(patron, "Ini fotonya")
    Message.objects.filter(conversation=before, seq=1).update(attachment_removed=True)
    now = returning()
    client.force_login(librarian)
    body = client.get(f"/staff/history/{now.pk}/{before.pk}/").json()
    assert [(m["seq"], m["attachment"], m["file_removed"]) for m in body["messages"]] == [
        (1, None, True), (2, None, False)]


def test_an_earlier_chat_opens_only_from_a_chat_whose_history_holds_it(identity, site, queue, earlier, returning,
                                                                       librarian, make_librarian, client):
    patron = Patron.objects.create(pk=identity.patron_id, site=site, name="Rina")
    before = earlier(patron, "Punya Rina")
    stranger = earlier(patron_on(site, email="lain@example.org"), "Punya orang lain")
    now = returning()
    do_send_librarian_message(user=librarian, conversation_id=now.pk, text="Halo", client_id="l-1")
    client.force_login(librarian)
    for path in (f"/staff/history/{now.pk}/{stranger.pk}/", f"/staff/history/{now.pk}/{now.pk}/",
                 f"/staff/history/{before.pk}/{now.pk}/", f"/staff/history/999999/{before.pk}/"):
        answer = client.get(path)
        assert (answer.status_code, answer.json()["error"]) == (404, "not_found"), path
        assert answer.json()["message"]
    client.force_login(make_librarian("budi", "Budi"))  # staff, but not the one who holds the chat
    assert client.get(f"/staff/history/{now.pk}/{before.pk}/").status_code == 404
    client.logout()
    answer = client.get(f"/staff/history/{now.pk}/{before.pk}/")
    assert (answer.status_code, answer.json()["error"]) == (403, "not_authenticated")
    assert client.post(f"/staff/history/{now.pk}/{before.pk}/").status_code == 405


def test_the_transcript_lists_earlier_chats_with_links(identity, site, earlier, returning, librarian, client):
    patron = Patron.objects.create(pk=identity.patron_id, site=site, name="Rina")
    before = earlier(patron, "<i>Jam buka</i>", rating=3)
    now = returning()
    client.force_login(librarian)
    page = client.get(f"/staff/transcripts/{now.pk}/").content.decode()
    assert f'href="/staff/transcripts/{before.pk}/"' in page
    assert "&lt;i&gt;Jam buka&lt;/i&gt;" in page
