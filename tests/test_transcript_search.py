"""Staff transcript search (reference.transcript_search): the FAQ search's analysis on chat messages:
stems, informal spellings, both languages, every query word; what is anonymised is not found; the
backfill command; bad input; who may see which transcript."""

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from reference import lifecycle, patron_data, selectors
from reference.messaging import do_send_librarian_message, do_send_patron_message
from reference.models import Conversation, Library, Message, Role
from reference.retention import apply_retention
from reference.transcript_search import matching_conversations, reindex, terms_for
from tests.starting import held_chat

pytestmark = pytest.mark.django_db


def closed_chat(identity, librarian, question, *replies, email=""):
    """The patron asks `question`, `librarian` answers each of `replies`, then closes."""
    conversation = held_chat(identity=identity, librarian=librarian, text=question, email=email)
    for number, reply in enumerate(replies, 1):
        do_send_librarian_message(user=librarian, conversation_id=conversation.pk, text=reply,
                                  client_id=f"l-{number}")
    return lifecycle.do_close_by_librarian(user=librarian, conversation_id=conversation.pk)


@pytest.fixture
def chats(make_identity, librarian):
    return SimpleNamespace(
        borrow=closed_chat(make_identity(), librarian, "Saya ingin meminjam buku digital dari rumah",
                           "Bisa, lewat aplikasi iPusnas.", email="rina@example.org"),
        hours=closed_chat(make_identity(), librarian, "Jam buka perpustakaan hari Sabtu?", "Buka jam 9 sampai 15."),
        english=closed_chat(make_identity(), librarian, "Can I renew my borrowed books online?",
                            "Ya, perpanjangan bisa lewat katalog."),
    )


def found(user, text):
    return {c.pk for c in selectors.transcripts(user=user, text=text)}


# ---- what the index holds

def test_a_texts_terms_are_both_languages_each_once_between_spaces():
    terms = terms_for("Meminjam buku-buku? Borrowing books, meminjam lagi!")
    assert terms.startswith(" ") and terms.endswith(" ")
    listed = terms.split()
    assert len(listed) == len(set(listed))
    assert {"pinjam", "buku", "borrow", "book"} <= set(listed)  # Indonesian stems and English stems
    assert "lagi" not in listed  # a very common word is left out, as in the FAQ search
    assert terms_for("") == terms_for("?!") == terms_for("yang dan the") == ""


def test_a_stored_message_carries_its_terms(chats):
    first = chats.borrow.messages.get(seq=1)
    assert first.search_terms == terms_for(first.text) and " pinjam " in first.search_terms


# ---- what a search finds

def test_a_word_finds_its_affixed_forms(librarian, chats):
    assert found(librarian, "pinjam") == {chats.borrow.pk}  # meminjam
    assert found(librarian, "peminjaman") == {chats.borrow.pk}
    assert found(librarian, "perpanjang") == {chats.english.pk}  # perpanjangan


def test_an_informal_spelling_finds_the_standard_word(librarian, chats):
    assert found(librarian, "minjem") == {chats.borrow.pk}
    assert found(librarian, "perpus") == {chats.hours.pk}


def test_every_word_must_match_in_any_message_of_the_chat(librarian, chats):
    assert found(librarian, "pinjam digital") == {chats.borrow.pk}
    assert found(librarian, "meminjam ipusnas") == {chats.borrow.pk}  # the question and the answer
    assert found(librarian, "pinjam sabtu") == set()
    assert found(librarian, "buka") == {chats.hours.pk}


def test_english_and_indonesian_words_in_one_query(librarian, chats):
    assert found(librarian, "renewing") == {chats.english.pk}
    assert found(librarian, "borrow katalog") == {chats.english.pk}  # English question, Indonesian answer
    assert found(librarian, "book") == {chats.english.pk}
    assert found(librarian, "buku") == {chats.borrow.pk}


def test_the_question_the_chat_is_listed_by_finds_it(librarian, chats):
    assert chats.hours.subject == "Jam buka perpustakaan hari Sabtu?"
    assert found(librarian, "Sabtu") == {chats.hours.pk}


def test_a_word_past_the_subjects_length_is_still_found(make_identity, librarian):
    long_question = "Saya mencari " + "arsip koran lama " * 20 + "tentang pelabuhan Belawan"
    chat = closed_chat(make_identity(), librarian, long_question)
    assert "Belawan" not in chat.subject
    assert found(librarian, "belawan") == {chat.pk}


def test_no_match_and_no_substring_match(librarian, chats):
    assert found(librarian, "kopi") == set()
    assert found(librarian, "pinj") == set()  # words, not pieces of words
    assert found(librarian, "buk") == set()


# ---- personal data does not survive in the index

def test_a_chat_anonymised_by_retention_is_no_longer_found(librarian, chats):
    library = chats.borrow.site.library
    Conversation.objects.filter(pk=chats.borrow.pk).update(
        created_at=timezone.now() - timedelta(days=library.retention_days + 1))
    apply_retention()
    assert found(librarian, "pinjam") == set()
    assert not Message.objects.filter(conversation=chats.borrow).exclude(search_terms="").exists()
    assert found(librarian, "perpus") == {chats.hours.pk}  # the others are untouched


def test_a_patrons_erased_chat_is_no_longer_found(librarian, chats, make_librarian):
    from django.contrib.auth.models import Permission

    officer = make_librarian(username="pdp", display_name="Petugas PDP")
    officer.user_permissions.add(Permission.objects.get(codename="manage_patron_data"))
    officer = type(officer).objects.get(pk=officer.pk)
    records = patron_data.find(officer, patron_data.clean_lookup(email="rina@example.org"))
    patron_data.erase(officer, records)
    assert found(librarian, "pinjam") == found(librarian, "ipusnas") == set()
    assert not Message.objects.filter(conversation=chats.borrow).exclude(search_terms="").exists()


# ---- the backfill

def index_transcripts(**options):
    out = StringIO()
    call_command("index_transcripts", stdout=out, **options)
    return out.getvalue().strip()


def test_the_backfill_indexes_older_messages_and_a_second_run_changes_nothing(librarian, chats):
    total = Message.objects.count()
    with_words = Message.objects.exclude(search_terms="").count()
    Message.objects.update(search_terms="")  # as before the search had terms
    assert found(librarian, "pinjam") == set()
    assert index_transcripts(batch=2) == f"{total} message(s) read, {with_words} updated."
    assert found(librarian, "pinjam") == {chats.borrow.pk}
    assert index_transcripts() == f"{total} message(s) read, 0 updated."


def test_the_backfill_indexes_a_message_stored_without_terms_and_leaves_anonymised_ones_empty(librarian, chats):
    Message.objects.create(conversation=chats.hours, seq=99, role=Role.PATRON, text="Boleh bawa laptop?")
    apply_retention(now=timezone.now() + timedelta(days=chats.borrow.site.library.retention_days + 1))
    index_transcripts()
    assert found(librarian, "laptop") == set()  # anonymised by the retention above, like every chat here
    assert not Message.objects.exclude(search_terms="").exists()


def test_a_data_migration_can_backfill_with_its_historical_model(librarian, chats):
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    historical = MigrationLoader(connection).project_state(("reference", "0017_faq_meaning")).apps
    Message.objects.update(search_terms="")
    assert reindex(batch=5, model=historical.get_model("reference", "Message"))[0] == Message.objects.count()
    assert found(librarian, "pinjam") == {chats.borrow.pk}


def test_the_backfill_refuses_a_batch_below_one(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        index_transcripts(batch=0)


# ---- bad input

@pytest.mark.parametrize("query", ["?!", "...", "yang dan the", "a"])
def test_a_query_without_words_to_look_for_finds_nothing(librarian, chats, query):
    assert found(librarian, query) == set()


def test_an_empty_query_filters_nothing(librarian, chats):
    assert found(librarian, "") == {chats.borrow.pk, chats.hours.pk, chats.english.pk}


def test_accents_case_and_emoji_are_read_as_words(librarian, chats):
    assert found(librarian, "MEMINJAM 📚") == {chats.borrow.pk}
    assert found(librarian, "búku") == {chats.borrow.pk}


def test_the_longest_query_the_form_takes_runs(librarian, chats):
    many_words = " ".join(f"kata{n}" for n in range(40))[:200]
    assert found(librarian, many_words) == set()
    repeated = "pinjam " * 28 + "buku"
    assert len(repeated) == 200 and found(librarian, repeated) == {chats.borrow.pk}


def test_the_list_says_why_a_query_cannot_be_searched(client, librarian, chats):
    client.force_login(librarian)
    for query in ("?!", "yang"):
        page = client.get("/staff/transcripts/", {"text": query}, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        assert "Nothing to search for" in page.content.decode()
    too_long = client.get("/staff/transcripts/", {"text": "pinjam " * 40}, HTTP_ACCEPT_LANGUAGE="en")
    assert too_long.status_code == 200 and "at most 200 characters" in too_long.content.decode()


def test_the_list_searches_by_words_and_says_so(client, librarian, chats):
    client.force_login(librarian)
    page = client.get("/staff/transcripts/", {"text": "minjem"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 conversation" in page and f"/staff/transcripts/{chats.borrow.pk}/" in page
    assert f"/staff/transcripts/{chats.hours.pk}/" not in page
    assert "in any of their forms" in page and 'aria-describedby="id_text_helptext"' in page


# ---- who may see which transcript

def test_a_librarian_does_not_find_a_transcript_they_may_not_read(make_identity, librarian, make_librarian,
                                                                   other_queue, chats):
    budi = make_librarian("budi", "Budi", queues=[other_queue])
    Library.objects.filter(pk=chats.borrow.site.library_id).update(transcripts_by_queue=True)
    budi = type(budi).objects.get(pk=budi.pk)
    assert found(budi, "pinjam") == set()
    assert found(librarian, "pinjam") == {chats.borrow.pk}
    assert Conversation.objects.filter(matching_conversations("pinjam")).count() == 1


# ---- PostgreSQL stores a live chat line in one statement (reference.messaging): it has terms too

@pytest.mark.django_db(transaction=True)
def test_a_live_line_stored_outside_a_transaction_has_its_terms(identity, librarian):
    conversation = held_chat(identity=identity, librarian=librarian, text="Halo")
    message, created = do_send_patron_message(patron_id=identity.patron_id, text="Mau minjem novel",
                                              client_id="p-2")
    assert created
    assert message.search_terms == Message.objects.get(pk=message.pk).search_terms == terms_for("Mau minjem novel")
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=conversation.pk)
    assert found(librarian, "pinjam novel") == {conversation.pk}
