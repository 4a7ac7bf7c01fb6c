"""The rules of a conversation's life, called directly as services."""

import functools

import pytest

from reference import lifecycle
from reference.errors import ServiceError
from reference.messaging import do_send_librarian_message, do_send_patron_message
from reference.models import Conversation, Message, Patron
from tests.starting import start_chat
from tests.threads import at_once

pytestmark = pytest.mark.django_db


def start(identity, text="Apakah perpustakaan buka hari Minggu?", client_id="p-1", **kwargs):
    return start_chat(identity=identity, text=text, client_id=client_id, **kwargs)


def error_code(callable_, *args, **kwargs):
    with pytest.raises(ServiceError) as raised:
        callable_(*args, **kwargs)
    return raised.value.code


class TestStart:
    def test_a_question_waits_in_the_sites_default_queue(self, identity, site):
        conversation, message, created = start(identity, name="  Rina  Sari ", email="rina@example.org")
        assert created
        assert conversation.status == Conversation.Status.QUEUED
        assert conversation.queue == site.default_queue
        assert conversation.subject == "Apakah perpustakaan buka hari Minggu?"
        assert (message.seq, message.role, message.author_name) == (1, "patron", "Rina Sari")
        patron = Patron.objects.get(pk=identity.patron_id)
        assert (patron.name, patron.email, patron.site) == ("Rina Sari", "rina@example.org", site)

    def test_a_retried_start_returns_the_same_conversation(self, identity):
        first, _m, _c = start(identity)
        again, message, created = start(identity)
        assert (again.pk, message.seq, created) == (first.pk, 1, False)
        assert Conversation.objects.count() == 1 and Message.objects.count() == 1

    def test_a_second_open_conversation_is_refused(self, identity):
        start(identity)
        assert error_code(start, identity, client_id="p-2") == "conversation_open"
        assert Conversation.objects.count() == 1

    def test_after_closing_the_patron_may_ask_again(self, identity):
        start(identity)
        lifecycle.do_close_by_patron(patron_id=identity.patron_id)
        conversation, _m, created = start(identity, client_id="p-2")
        assert created and conversation.status == Conversation.Status.QUEUED

    @pytest.mark.parametrize(("kwargs", "code"), [
        ({"text": "   "}, "empty_message"),
        ({"text": "x" * 4001}, "message_too_long"),
        ({"text": 42}, "invalid_frame"),
        ({"email": "not-an-email"}, "invalid_email"),
        ({"name": "n" * 101}, "name_too_long"),
        ({"client_id": ""}, "invalid_frame"),
        ({"client_id": "c" * 65}, "invalid_frame"),
    ])
    def test_bad_input_changes_nothing(self, identity, kwargs, code):
        assert error_code(start, identity, **kwargs) == code
        assert not Patron.objects.exists() and not Conversation.objects.exists()

    def test_a_question_of_exactly_the_limit_is_accepted(self, identity):
        _c, message, _created = start(identity, text="y" * 4000)
        assert len(message.text) == 4000

    def test_a_token_for_an_unknown_or_inactive_site_is_refused(self, make_identity, site):
        assert error_code(start, make_identity(site_key="no-such-site")) == "token_invalid"
        site.is_active = False
        site.save()
        assert error_code(start, make_identity()) == "token_invalid"


class TestClaim:
    def test_claim_makes_it_active_and_tells_the_patron(self, identity, librarian):
        conversation, _m, _c = start(identity)
        claimed = lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
        assert claimed.status == Conversation.Status.ACTIVE
        assert claimed.librarian == librarian and claimed.assigned_at is not None
        notice = claimed.messages.get(seq=2)
        assert notice.role == "system" and "Siti" in notice.text

    def test_claim_of_a_chat_someone_else_holds(self, identity, librarian, make_librarian):
        conversation, _m, _c = start(identity)
        lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
        other = make_librarian("budi", "Budi")
        assert error_code(lifecycle.do_claim, user=other,
                          conversation_id=conversation.pk) == "already_claimed"
        conversation.refresh_from_db()
        assert conversation.librarian == librarian and conversation.last_seq == 2

    def test_claiming_twice_is_harmless(self, identity, librarian):
        conversation, _m, _c = start(identity)
        lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
        lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
        assert Conversation.objects.get().last_seq == 2

    def test_refusals(self, identity, make_identity, librarian, make_librarian, other_queue):
        conversation, _m, _c = start(identity)
        outsider = make_librarian("dewi", "Dewi", queues=[other_queue])
        assert error_code(lifecycle.do_claim, user=outsider,
                          conversation_id=conversation.pk) == "not_member"
        assert error_code(lifecycle.do_claim, user=librarian,
                          conversation_id=999999) == "not_found"
        patron_user = make_librarian("tamu", "Tamu", is_staff=False)
        assert error_code(lifecycle.do_claim, user=patron_user,
                          conversation_id=conversation.pk) == "not_authenticated"
        lifecycle.do_close_by_patron(patron_id=identity.patron_id)
        assert error_code(lifecycle.do_claim, user=librarian,
                          conversation_id=conversation.pk) == "conversation_closed"

    def test_capacity(self, make_identity, make_librarian):
        busy = make_librarian("rudi", "Rudi", max_chats=1)
        first, _m, _c = start(make_identity())
        second, _m, _c = start(make_identity())
        lifecycle.do_claim(user=busy, conversation_id=first.pk)
        assert error_code(lifecycle.do_claim, user=busy,
                          conversation_id=second.pk) == "at_capacity"
        assert Conversation.objects.get(pk=second.pk).status == Conversation.Status.QUEUED


@pytest.mark.django_db(transaction=True)
def test_two_librarians_claiming_at_the_same_instant_one_wins(make_identity, make_librarian):
    """The race on the real database (SQLite here, PostgreSQL in the scale-out run)."""
    librarians = [make_librarian(f"lib{i}", f"Lib {i}") for i in range(2)]
    for _round in range(5):
        conversation, _m, _c = start(make_identity())
        outcomes = []

        def claim(user, conversation_id=conversation.pk, outcomes=outcomes):
            try:
                lifecycle.do_claim(user=user, conversation_id=conversation_id)
                outcomes.append("won")
            except ServiceError as error:
                outcomes.append(error.code)

        at_once(*(functools.partial(claim, user) for user in librarians))
        assert sorted(outcomes) == ["already_claimed", "won"]
        conversation.refresh_from_db()
        assert conversation.status == Conversation.Status.ACTIVE
        assert conversation.messages.filter(role="system").count() == 1
        lifecycle.do_close_by_librarian(user=conversation.librarian, conversation_id=conversation.pk)


class TestMessages:
    @pytest.fixture
    def active(self, identity, librarian):
        conversation, _m, _c = start(identity)
        return lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)

    def test_messages_are_numbered_in_order(self, active, identity, librarian):
        reply, created = do_send_librarian_message(user=librarian, conversation_id=active.pk,
                                                   text="Buka, pukul 09.00.", client_id="l-1")
        follow_up, _ = do_send_patron_message(patron_id=identity.patron_id, text="Terima kasih!",
                                              client_id="p-2")
        assert created and (reply.seq, follow_up.seq) == (3, 4)
        active.refresh_from_db()
        assert active.last_seq == 4 and active.first_response_at == reply.created_at

    def test_a_retry_is_acknowledged_with_the_original_number(self, active, librarian):
        first, created = do_send_librarian_message(user=librarian, conversation_id=active.pk,
                                                   text="Halo", client_id="l-1")
        again, created_again = do_send_librarian_message(user=librarian, conversation_id=active.pk,
                                                         text="Halo", client_id="l-1")
        assert created and not created_again and again.pk == first.pk
        assert active.messages.filter(client_id="l-1").count() == 1

    def test_a_client_id_of_someone_else_is_refused(self, active, identity, librarian):
        do_send_librarian_message(user=librarian, conversation_id=active.pk, text="Halo", client_id="x")
        assert error_code(do_send_patron_message, patron_id=identity.patron_id, text="Hai",
                          client_id="x") == "duplicate_client_id"

    def test_only_the_holder_may_write(self, active, make_librarian):
        other = make_librarian("budi", "Budi")
        assert error_code(do_send_librarian_message, user=other, conversation_id=active.pk,
                          text="Halo", client_id="b-1") == "not_assigned"
        assert error_code(do_send_librarian_message, user=other, conversation_id=424242,
                          text="Halo", client_id="b-1") == "not_found"

    def test_a_message_to_a_closed_conversation_is_refused_but_a_retry_is_acknowledged(
        self, active, identity, librarian
    ):
        sent, _ = do_send_patron_message(patron_id=identity.patron_id, text="Satu lagi", client_id="p-9")
        lifecycle.do_close_by_librarian(user=librarian, conversation_id=active.pk)
        assert error_code(do_send_patron_message, patron_id=identity.patron_id, text="Halo?",
                          client_id="p-10") == "conversation_closed"
        again, created = do_send_patron_message(patron_id=identity.patron_id, text="Satu lagi",
                                                client_id="p-9")
        assert again.seq == sent.seq and not created

    @pytest.mark.parametrize(("text", "code"), [("", "empty_message"), ("z" * 4001, "message_too_long")])
    def test_bad_text(self, active, librarian, text, code):
        assert error_code(do_send_librarian_message, user=librarian, conversation_id=active.pk,
                          text=text, client_id="l-1") == code
        active.refresh_from_db()
        assert active.last_seq == 2

    def test_a_patron_without_a_conversation(self, identity, site):
        patron = Patron.objects.create(pk=identity.patron_id, site=site)
        assert error_code(do_send_patron_message, patron_id=patron.pk, text="Halo",
                          client_id="p-1") == "no_conversation"


class TestClose:
    def test_the_librarian_closes(self, identity, librarian):
        conversation, _m, _c = start(identity)
        lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
        closed = lifecycle.do_close_by_librarian(user=librarian, conversation_id=conversation.pk)
        assert closed.status == Conversation.Status.CLOSED and closed.closed_at
        assert (closed.closed_by_role, closed.closed_by) == ("librarian", librarian)
        assert closed.messages.order_by("seq").last().role == "system"

    def test_the_patron_closes_while_waiting(self, identity):
        start(identity)
        closed = lifecycle.do_close_by_patron(patron_id=identity.patron_id)
        assert (closed.status, closed.closed_by_role, closed.closed_by) == ("closed", "patron", None)

    def test_refusals(self, identity, librarian, make_librarian):
        conversation, _m, _c = start(identity)
        assert error_code(lifecycle.do_close_by_librarian, user=librarian,
                          conversation_id=conversation.pk) == "not_assigned"
        lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
        lifecycle.do_close_by_librarian(user=librarian, conversation_id=conversation.pk)
        assert error_code(lifecycle.do_close_by_librarian, user=librarian,
                          conversation_id=conversation.pk) == "conversation_closed"
        assert error_code(lifecycle.do_close_by_patron,
                          patron_id=identity.patron_id) == "no_conversation"


@pytest.mark.django_db(transaction=True)
class TestMessagesOutsideATransaction(TestMessages):
    """The same rules with no transaction open, as a socket sends them: on PostgreSQL the usual
    message is then one statement (messaging._store_in_one_statement), the rest step by step."""


@pytest.mark.django_db(transaction=True)
def test_the_same_message_sent_twice_at_the_same_instant_is_stored_once(identity, librarian):
    conversation, _m, _c = start(identity)
    lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
    results = []

    def send():
        results.append(do_send_patron_message(patron_id=identity.patron_id, text="Halo?", client_id="p-2"))

    at_once(send, send, send, send)
    assert sorted(created for _message, created in results) == [False, False, False, True]
    assert {message.seq for message, _created in results} == {3}
    conversation.refresh_from_db()
    assert conversation.last_seq == 3 and conversation.messages.filter(client_id="p-2").count() == 1
