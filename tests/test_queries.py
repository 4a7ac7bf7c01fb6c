"""Pages and the dashboard's welcome cost the same number of queries for 2 rows as for 8 (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reference import lifecycle, selectors
from reference.messaging import do_send_librarian_message, do_send_patron_message
from reference.models import Patron
from tests.starting import held_chat, start_chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def chats(make_identity, librarian):
    """`chats(n, messages=m, close=True)`: n conversations Siti answered, each m exchanges long;
    `claim=False`: n questions still waiting."""
    def make(count, *, messages=2, close=True, claim=True):
        for index in range(count):
            identity = make_identity()
            fields = {"identity": identity, "text": f"Pertanyaan {index}", "client_id": "p-0",
                      "name": f"Patron {index}"}
            if not claim:
                start_chat(**fields)
                continue
            conversation = held_chat(librarian=librarian, **fields)
            patron = Patron.objects.get(pk=identity.patron_id)
            for k in range(messages):
                do_send_librarian_message(user=librarian, conversation_id=conversation.pk, text=f"Jawaban {k}",
                                          client_id=f"l-{k}")
                do_send_patron_message(patron_id=patron.pk, text=f"Terima kasih {k}", client_id=f"p-{k + 1}")
            if close:
                lifecycle.do_close_by_librarian(user=librarian, conversation_id=conversation.pk)
    return make


def queries(call):
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def test_the_transcript_list_does_not_grow_with_its_rows(client, librarian, chats):
    client.force_login(librarian)
    chats(2)
    few = queries(lambda: client.get("/staff/transcripts/"))
    chats(6)
    assert queries(lambda: client.get("/staff/transcripts/")) == few


def test_a_transcript_does_not_grow_with_its_messages(client, librarian, chats):
    client.force_login(librarian)
    chats(1, messages=1)
    chats(1, messages=8)
    short, long = Patron.objects.order_by("pk").values_list("conversations__pk", flat=True)
    assert queries(lambda: client.get(f"/staff/transcripts/{long}/")) == \
        queries(lambda: client.get(f"/staff/transcripts/{short}/"))


def test_the_dashboard_welcome_does_not_grow_with_the_chats_held(librarian, chats):
    librarian.librarian_profile.max_chats = 10
    librarian.librarian_profile.save()
    queue_ids = list(librarian.librarian_profile.queues.values_list("pk", flat=True))
    chats(2, close=False)
    chats(2, claim=False)
    # A fresh user object each time: the user's libraries are read once per object (reference.tenancy).
    def fresh():
        return type(librarian).objects.get(pk=librarian.pk)

    few = queries(lambda: selectors.librarian_welcome(fresh(), queue_ids=queue_ids, since={}))
    chats(6, close=False)
    chats(6, claim=False)
    welcome = {}
    many = queries(lambda: welcome.update(selectors.librarian_welcome(fresh(), queue_ids=queue_ids, since={})))
    assert (len(welcome["waiting"]), len(welcome["conversations"])) == (8, 8) and many == few


def test_the_dashboard_page_does_not_grow_with_the_chats_held(client, librarian, chats):
    client.force_login(librarian)
    librarian.librarian_profile.max_chats = 10
    librarian.librarian_profile.save()
    chats(2, close=False)
    few = queries(lambda: client.get("/dashboard/"))
    chats(6, close=False)
    assert queries(lambda: client.get("/dashboard/")) == few


def test_a_chat_message_is_two_statements(chats, librarian):
    """One UPDATE ... RETURNING finds the conversation (the patron's latest), locks it, takes the
    next seq and tells whether the client id was stored before; one INSERT stores the message: the
    database thread's whole share of a message, from either side."""
    chats(1, close=False)
    conversation = librarian.conversations.get()
    do_send_librarian_message(user=librarian, conversation_id=conversation.pk, text="Halo", client_id="l-0")
    with CaptureQueriesContext(connection) as patron_side:
        do_send_patron_message(patron_id=conversation.patron_id, text="Satu lagi", client_id="p-x")
    with CaptureQueriesContext(connection) as librarian_side:
        do_send_librarian_message(user=librarian, conversation_id=conversation.pk, text="Baik", client_id="l-2")
    for captured in (patron_side, librarian_side):
        statements = [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"].upper()]
        assert [s.split()[0] for s in statements] == ["UPDATE", "INSERT"], statements


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_chat_message_is_one_statement(chats, librarian):
    """Outside a transaction block, as a socket sends it: one WITH … UPDATE … INSERT statement,
    committed on its own (no BEGIN and COMMIT round trips), from either side."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: set DATABASE_URL (make test-scaleout); SQLite has no round trips to save")
    chats(1, close=False)
    conversation = librarian.conversations.get()
    with CaptureQueriesContext(connection) as patron_side:
        do_send_patron_message(patron_id=conversation.patron_id, text="Satu lagi", client_id="p-x")
    with CaptureQueriesContext(connection) as librarian_side:
        do_send_librarian_message(user=librarian, conversation_id=conversation.pk, text="Baik", client_id="l-2")
    for captured in (patron_side, librarian_side):
        assert [q["sql"].split()[0] for q in captured] == ["WITH"], captured.captured_queries
