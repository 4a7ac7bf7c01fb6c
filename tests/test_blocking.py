"""The librarian's block (issue 19): the holder of a chat stops its patron, by token and by address,
for 15 minutes, an hour or a day (reference.blocking)."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from reference import blocking, limits
from reference.models import AuditEvent, Conversation, PatronBlock
from reference.tokens import issue_patron_token
from tests.test_limits import new_token, patron_from
from tests.wsclient import active_chat, ask, connect, librarian_socket

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "198.51.100.90"


async def blocked_chat(librarian, identity, minutes=60, reason="spam"):
    """A patron from ADDRESS asks, the librarian claims and blocks them: (patron, desk, conversation id)."""
    desk = await librarian_socket(librarian)
    patron = await patron_from(ADDRESS, issue_patron_token(identity.site_key, identity.patron_id), lang="en")
    conversation_id = await active_chat(patron, desk)
    await desk.send({"type": "block", "conversation": conversation_id, "minutes": minutes, "reason": reason})
    return patron, desk, conversation_id


@database_sync_to_async
def blocks():
    return list(PatronBlock.objects.select_related("patron", "created_by"))


async def test_the_holder_blocks_the_patron_the_chat_ends_with_a_notice(librarian, identity):
    patron, desk, conversation_id = await blocked_chat(librarian, identity)
    notice = await patron.receive_message(role="system")
    closed = await patron.receive_type("conversation")
    assert closed["conversation"]["status"] == "closed"
    assert notice["text"].startswith("The librarian has ended this chat. You can start a new one after ")
    assert (await desk.receive_type("conversation"))["conversation"]["status"] == "closed"
    [block] = await blocks()
    assert block.patron.pk == identity.patron_id and block.created_by == librarian and block.reason == "spam"
    assert block.address_key == limits.address_key(ADDRESS) and ADDRESS not in block.address_key
    assert timedelta(minutes=59) < block.until - timezone.now() <= timedelta(minutes=60)
    event = await database_sync_to_async(AuditEvent.objects.get)(action=AuditEvent.Action.BLOCK_PATRON)
    assert event.conversation_id == conversation_id and event.detail["minutes"] == 60
    assert event.detail["by_address"] is True
    # Now the patron cannot start again, and is told until when.
    await patron.send({"type": "start", "client_id": "again", "text": "Halo lagi"})
    error = await patron.receive_type("error")
    assert error["code"] == "blocked" and error["ref"] == "again"
    assert 3500 < error["retry_after"] <= 3600
    assert "paused chatting from here until" in error["message"]
    assert timezone.localtime(block.until).strftime("%H:%M") in error["message"]
    assert await database_sync_to_async(Conversation.objects.count)() == 1
    await patron.close()
    await desk.close()


async def test_the_block_holds_for_the_address_and_not_for_others(librarian, identity, make_identity):
    patron, desk, _conversation_id = await blocked_chat(librarian, identity, minutes=15)
    await patron.receive_type("conversation")
    same_place = await patron_from(ADDRESS, new_token(make_identity), lang="id")
    await same_place.send({"type": "start", "client_id": "s-1", "text": "Halo"})
    error = await same_place.receive_type("error")
    assert error["code"] == "blocked" and 800 < error["retry_after"] <= 900
    elsewhere = await patron_from("198.51.100.91", new_token(make_identity))
    await ask(elsewhere, client_id="e-1")
    for s in (patron, desk, same_place, elsewhere):
        await s.close()


async def test_a_block_refuses_messages_too(chat, identity, librarian):
    """A block set another way (the admin, another tab) stops messages in an open chat."""
    patron, desk, conversation_id = chat

    @database_sync_to_async
    def block_now():
        PatronBlock.objects.create(patron_id=identity.patron_id, until=timezone.now() + timedelta(minutes=5))

    await block_now()
    await patron.send({"type": "message", "client_id": "m-1", "text": "masih bisa?"})
    error = await patron.receive_type("error")
    assert (error["code"], error["ref"]) == ("blocked", "m-1") and error["retry_after"] <= 300


async def test_a_block_that_ran_out_or_was_lifted_stops_nothing(identity, token_for):
    @database_sync_to_async
    def old_blocks():
        from reference.models import Patron
        from widgets.models import Site

        Patron.objects.create(pk=identity.patron_id, site=Site.objects.get(key=identity.site_key))
        now = timezone.now()
        PatronBlock.objects.create(patron_id=identity.patron_id, until=now - timedelta(minutes=1))
        PatronBlock.objects.create(patron_id=identity.patron_id, until=now + timedelta(hours=1), lifted_at=now)

    from tests.wsclient import patron_socket

    await old_blocks()
    patron = await patron_socket(token_for(identity))
    await ask(patron)
    await patron.close()


@pytest.mark.parametrize(("minutes", "code"), [(30, "invalid_block_minutes"), (0, "invalid_block_minutes"),
                                               ("15", "invalid_frame"), (True, "invalid_frame"),
                                               (None, "invalid_frame")])
async def test_bad_durations_are_refused_and_nothing_happens(chat, minutes, code):
    patron, desk, conversation_id = chat
    await desk.send({"type": "block", "conversation": conversation_id, "minutes": minutes})
    error = await desk.receive_type("error")
    assert (error["code"], error["ref"]) == (code, "block")
    assert await blocks() == []
    assert (await database_sync_to_async(Conversation.objects.get)(pk=conversation_id)).status == "active"


async def test_a_long_reason_is_refused(chat):
    patron, desk, conversation_id = chat
    await desk.send({"type": "block", "conversation": conversation_id, "minutes": 15, "reason": "x" * 501})
    assert (await desk.receive_type("error"))["code"] == "block_reason_too_long"
    assert await blocks() == []


async def test_only_the_holder_may_block(chat, make_librarian, identity, make_identity):
    patron, desk, conversation_id = chat
    colleague = await database_sync_to_async(make_librarian)(username="budi", display_name="Budi")
    other_desk = await librarian_socket(colleague)
    await other_desk.send({"type": "block", "conversation": conversation_id, "minutes": 15})
    assert (await other_desk.receive_type("error"))["code"] == "not_assigned"
    await other_desk.send({"type": "block", "conversation": 10**9, "minutes": 15})
    assert (await other_desk.receive_type("error"))["code"] == "not_found"
    # A waiting chat nobody holds cannot be blocked either.
    waiting = await patron_from("198.51.100.92", new_token(make_identity))
    waiting_id = await ask(waiting, client_id="w-1")
    await desk.send({"type": "block", "conversation": waiting_id, "minutes": 15})
    assert (await desk.receive_type("error"))["code"] == "not_assigned"
    assert await blocks() == []
    await other_desk.close()
    await waiting.close()


async def test_a_socket_that_is_not_staff_cannot_block(chat, make_librarian):
    patron, desk, conversation_id = chat
    await patron.send({"type": "block", "conversation": conversation_id, "minutes": 15})
    assert (await patron.receive_type("error"))["code"] == "unknown_type"
    anonymous = await connect("/ws/librarian/")
    assert (await anonymous.receive_type("error"))["code"] == "not_authenticated"
    assert await anonymous.closed_with() == 4403
    not_staff = await database_sync_to_async(make_librarian)(username="tamu", is_staff=False)
    from tests.wsclient import session_cookie

    outsider = await connect("/ws/librarian/", [await session_cookie(not_staff)])
    assert (await outsider.receive_type("error"))["code"] == "not_authenticated"
    assert await outsider.closed_with() == 4403
    assert await blocks() == []


async def test_the_holder_may_still_block_after_the_patron_left(chat, identity):
    patron, desk, conversation_id = chat
    await patron.send({"type": "close"})
    await desk.receive_type("conversation")
    await desk.send({"type": "block", "conversation": conversation_id, "minutes": 1440})
    await desk.send({"type": "ping"})
    await desk.receive_type("pong")
    [block] = await blocks()
    assert timedelta(hours=23) < block.until - timezone.now() <= timedelta(hours=24)


def test_staff_lift_a_block_in_the_admin(db, identity, librarian, django_user_model):
    from tests.starting import held_chat

    conversation = held_chat(identity=identity, librarian=librarian)
    block = blocking.do_block_patron(user=librarian, conversation_id=conversation.pk, minutes=60)
    assert blocking.active_block(patron_id=identity.patron_id) == block
    admin = django_user_model.objects.create_superuser("kepala", password="pw-kepala")
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/reference/patronblock/", HTTP_ACCEPT_LANGUAGE="en")
    assert listing.status_code == 200 and "Lift block" in listing.content.decode()
    answer = client.post("/admin/reference/patronblock/", {"action": "lift_blocks", "_selected_action": [block.pk]},
                         HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "1 block lifted." in answer.content.decode()
    block.refresh_from_db()
    assert block.lifted_at is not None
    assert blocking.active_block(patron_id=identity.patron_id) is None
    lifted = AuditEvent.objects.get(action=AuditEvent.Action.LIFT_BLOCK)
    assert lifted.user == admin and lifted.conversation_id == conversation.pk
    # Lifting again changes nothing more.
    assert blocking.do_lift_blocks(user=admin, blocks=PatronBlock.objects.all()) == 0
