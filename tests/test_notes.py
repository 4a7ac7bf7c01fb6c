"""Internal notes (reference.notes): librarians note a chat or its patron; patrons never see them."""

import json

import pytest
from channels.db import database_sync_to_async

from reference import groups, lifecycle, notes, selectors
from reference.errors import ServiceError
from reference.events import Outbox
from reference.models import InternalNote, Library
from reference.presence_store import get_store
from tests.starting import held_chat, start_chat
from tests.wsclient import ask, librarian_socket, patron_socket
from widgets.models import Site

NOTE = "Sudah dicek di katalog: edisi 1972 ada di gudang."
ABOUT_PATRON = "Pemustaka tunanetra: kirim tautan, bukan gambar."


@pytest.fixture
def held(identity, librarian):
    return held_chat(identity=identity, librarian=librarian, name="Rina")


def published(django_capture_on_commit_callbacks, call):
    """What `call(outbox)` published, as (group, frame) pairs, once committed."""
    outbox = Outbox()
    with django_capture_on_commit_callbacks(execute=True):
        call(outbox)
    return [(group, event["frame"]) for group, event in outbox.committed]


@pytest.mark.django_db
def test_a_note_is_stored_trimmed_and_goes_to_the_holders_tabs_only(held, librarian,
                                                                    django_capture_on_commit_callbacks):
    sent = published(django_capture_on_commit_callbacks, lambda outbox: notes.do_add_note(
        user=librarian, conversation_id=held.pk, text=f"  {NOTE}\n", client_id="n-1", outbox=outbox))
    note = InternalNote.objects.get()
    assert (note.text, note.conversation_id, note.patron_id, note.author_name) == (
        NOTE, held.pk, held.patron_id, "Siti")
    assert [group for group, _frame in sent] == [groups.librarian(librarian.pk)]
    frame = sent[0][1]
    assert (frame["type"], frame["conversation"], frame["client_id"]) == ("note", held.pk, "n-1")
    assert (frame["note"]["about"], frame["note"]["text"], frame["note"]["author"]) == ("conversation", NOTE, "Siti")


@pytest.mark.django_db
def test_a_note_about_the_patron_follows_them_to_their_next_chat(held, identity, librarian):
    notes.do_add_note(user=librarian, conversation_id=held.pk, text=NOTE)
    notes.do_add_note(user=librarian, conversation_id=held.pk, text=ABOUT_PATRON, about="patron")
    about_patron = InternalNote.objects.get(text=ABOUT_PATRON)
    assert (about_patron.conversation_id, about_patron.patron_id) == (None, held.patron_id)
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=held.pk)

    later = held_chat(identity=identity, librarian=librarian, text="Masih ada edisi 1973?", client_id="p-9")
    assert [n.text for n in notes.notes_of(later)] == [ABOUT_PATRON]  # not the earlier chat's own note
    assert [n.text for n in notes.notes_of(held)] == [NOTE, ABOUT_PATRON]
    assert [n.text for n in notes.conversation_notes(held)] == [NOTE]


@pytest.mark.django_db
def test_a_note_about_the_patron_follows_them_to_another_device_in_the_same_library(
        site, queue, librarian, make_identity):
    """The same e-mail address from another widget identity is the same patron (reference.history)."""
    first = held_chat(identity=make_identity(), librarian=librarian, email="rina@example.org")
    notes.do_add_note(user=librarian, conversation_id=first.pk, text=ABOUT_PATRON, about="patron")
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=first.pk)
    other_library = Library.objects.create(name="Perpustakaan Provinsi")
    Site.objects.create(name="Provinsi", key="provinsi", default_queue=queue, library=other_library,
                        allowed_origins="https://provinsi.example")
    elsewhere = held_chat(identity=make_identity("provinsi"), librarian=librarian, email="rina@example.org")
    assert notes.notes_of(elsewhere) == []
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=elsewhere.pk)
    again = held_chat(identity=make_identity(), librarian=librarian, email="RINA@example.org")
    assert [n.text for n in notes.notes_of(again)] == [ABOUT_PATRON]


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "about", "code"), [
    ("", "conversation", "note_empty"),
    (" \n\t ", "conversation", "note_empty"),
    ("x" * (notes.NOTE_MAX_LENGTH + 1), "conversation", "note_too_long"),
    (NOTE, "librarian", "note_about"),
    (NOTE, "", "note_about"),
])
def test_bad_notes_are_refused_and_nothing_is_stored(held, librarian, text, about, code):
    with pytest.raises(ServiceError) as refused:
        notes.do_add_note(user=librarian, conversation_id=held.pk, text=text, about=about)
    assert refused.value.code == code and refused.value.message
    assert not InternalNote.objects.exists()


@pytest.mark.django_db
def test_the_longest_note_is_kept(held, librarian):
    notes.do_add_note(user=librarian, conversation_id=held.pk, text="x" * notes.NOTE_MAX_LENGTH)
    assert len(InternalNote.objects.get().text) == notes.NOTE_MAX_LENGTH


@pytest.mark.django_db
def test_a_note_on_a_chat_the_librarian_may_not_see_is_refused(held, librarian, make_librarian, make_identity):
    budi = make_librarian("budi", "Budi")
    waiting, _message, _created = start_chat(identity=make_identity(), text="Ada yang bisa bantu?", client_id="p-1")
    for user, conversation_id in [(budi, held.pk), (librarian, waiting.pk), (librarian, 999999)]:
        with pytest.raises(ServiceError) as refused:
            notes.do_add_note(user=user, conversation_id=conversation_id, text=NOTE)
        assert refused.value.code == "not_found"
    assert not InternalNote.objects.exists()


@pytest.mark.django_db
def test_a_librarian_notes_a_chat_they_closed(held, librarian):
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=held.pk)
    notes.do_add_note(user=librarian, conversation_id=held.pk, text="Dijawab lewat email juga.")
    assert InternalNote.objects.filter(conversation=held).count() == 1


@pytest.mark.django_db
def test_the_welcome_carries_each_held_chats_notes(held, librarian):
    notes.do_add_note(user=librarian, conversation_id=held.pk, text=NOTE)
    notes.do_add_note(user=librarian, conversation_id=held.pk, text=ABOUT_PATRON, about="patron")
    welcome = selectors.librarian_welcome(librarian, queue_ids=[held.queue_id], since={})
    (chat,) = welcome["conversations"]
    assert [(n["about"], n["text"]) for n in chat["notes"]] == [("conversation", NOTE), ("patron", ABOUT_PATRON)]
    assert chat["history"] == {"count": 0, "recent": []}


@pytest.mark.django_db
def test_staff_read_notes_on_the_transcript_escaped_and_marked_internal(held, librarian, client):
    notes.do_add_note(user=librarian, conversation_id=held.pk, text="<b>" + NOTE)
    notes.do_add_note(user=librarian, conversation_id=held.pk, text=ABOUT_PATRON, about="patron")
    client.force_login(librarian)
    page = client.get(f"/staff/transcripts/{held.pk}/").content.decode()
    assert "&lt;b&gt;" + NOTE in page and "<b>" + NOTE not in page
    assert ABOUT_PATRON in page
    assert "Hanya pustakawan yang melihat catatan" in page or "Only librarians see notes" in page


# ---- on the wire

def recording(socket):
    """Every frame `socket` receives from now on, kept in the returned list."""
    seen, receive = [], socket.receive

    async def keep():
        frame = await receive()
        seen.append(frame)
        return frame

    socket.receive = keep
    return seen


async def drain(socket):
    while not await socket.nothing_more():
        await socket.receive()


@pytest.mark.django_db(transaction=True)
async def test_no_frame_a_patron_receives_carries_a_note(identity, token_for, make_librarian):
    """A whole chat with notes and a transfer, two tabs of the patron watching: the notes reach the
    holders' dashboards and the colleague who takes the chat over, and none of the patron's frames."""
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    for user in (siti, budi):
        get_store().beat(user.pk, f"tab-{user.pk}", 60)
    sender, receiver = await librarian_socket(siti), await librarian_socket(budi)
    patron = await patron_socket(token_for(identity))
    seen = recording(patron)
    conversation_id = await ask(patron, "Arsip koran 1970?", "p-1", name="Rina")
    other_tab = await patron_socket(token_for(identity))
    seen_other = recording(other_tab)
    await sender.send({"type": "claim", "conversation": conversation_id})
    await sender.receive_type("conversation")

    await sender.send({"type": "note", "conversation": conversation_id, "text": NOTE, "client_id": "n-1"})
    stored = await sender.receive_type("note")
    assert (stored["client_id"], stored["note"]["text"]) == ("n-1", NOTE)
    await sender.send({"type": "note", "conversation": conversation_id, "text": ABOUT_PATRON, "about": "patron",
                       "client_id": "n-2"})
    assert (await sender.receive_type("note"))["note"]["about"] == "patron"
    await sender.send({"type": "note", "conversation": conversation_id, "text": " ", "client_id": "n-3"})
    refused = await sender.receive_type("error")
    assert (refused["code"], refused["ref"]) == ("note_empty", "n-3")
    await sender.send({"type": "message", "conversation": conversation_id, "client_id": "s-1", "text": "Sebentar."})
    await patron.receive_message(role="librarian")

    await sender.send({"type": "transfer", "conversation": conversation_id, "to_librarian": budi.pk,
                       "note": "Lanjutkan ya."})
    offer = (await receiver.receive_type("transfer"))["transfer"]
    await receiver.send({"type": "transfer.accept", "transfer": offer["id"]})
    taken = await receiver.receive_type("conversation")
    while taken["conversation"].get("messages") is None:
        taken = await receiver.receive_type("conversation")
    assert [n["text"] for n in taken["conversation"]["notes"]] == [NOTE, ABOUT_PATRON]

    await receiver.send({"type": "note", "conversation": conversation_id, "text": "Budi: sudah diemailkan.",
                         "client_id": "b-1"})
    assert (await receiver.receive_type("note"))["note"]["author"] == "Budi"
    await sender.send({"type": "note", "conversation": conversation_id, "text": "Siti lagi", "client_id": "s-2"})
    assert (await sender.receive_type("error"))["code"] == "not_found"  # no longer Siti's to note
    await receiver.send({"type": "message", "conversation": conversation_id, "client_id": "b-2", "text": "Halo"})
    await patron.receive_message(role="librarian", text="Halo")
    await receiver.send({"type": "close", "conversation": conversation_id})
    while (await patron.receive_type("conversation"))["conversation"]["status"] != "closed":
        pass
    for socket in (patron, other_tab):
        await drain(socket)

    wire = json.dumps(seen + seen_other, ensure_ascii=False)
    assert '"Halo"' in wire  # the patron did follow the chat
    for secret in (NOTE, ABOUT_PATRON, "Budi: sudah diemailkan.", "Lanjutkan ya."):
        assert secret not in wire
    assert not any(frame["type"] == "note" or "notes" in json.dumps(frame) for frame in seen + seen_other)
    for socket in (sender, receiver, patron, other_tab):
        await socket.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("frame", "code"), [
    ({"type": "note", "text": NOTE}, "invalid_frame"),
    ({"type": "note", "conversation": 1}, "invalid_frame"),
    ({"type": "note", "conversation": "1", "text": NOTE}, "invalid_frame"),
    ({"type": "note", "conversation": 1, "text": NOTE, "about": 3}, "invalid_frame"),
    ({"type": "note", "conversation": 999999, "text": NOTE}, "not_found"),
])
async def test_malformed_note_frames_are_refused(librarian, frame, code):
    socket = await librarian_socket(librarian)
    await socket.send(frame)
    assert (await socket.receive_type("error"))["code"] == code
    assert not await database_sync_to_async(InternalNote.objects.exists)()
    await socket.close()

