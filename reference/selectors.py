"""Reads: what a patron, a librarian or staff see. No writes here."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from reference import assessment, cover, frames, history, notes, offline_questions, tenancy, transcript_search, waiting
from reference.errors import ServiceError
from reference.models import AssignmentOffer, Conversation, LibrarianProfile, Message, Queue, Role, Transfer
from reference.presence import roster as presence_roster

# A reload within this time after a chat closed still shows how it ended.
RECENTLY_CLOSED = timedelta(hours=1)

_RELATED = ("patron", "patron__library_card", "queue", "librarian__librarian_profile",
            "cover_agreement__home", "cover_agreement__covering")


def transfers_prefetch():
    """A conversation's transfers with what their payloads name."""
    return Prefetch("transfers", queryset=Transfer.objects.select_related(
        "from_user__librarian_profile", "to_user__librarian_profile", "to_queue"))


def patron_current_conversation(patron):
    """The patron's open conversation, or the one that closed in the last hour."""
    if patron is None:
        return None
    latest = patron.conversations.select_related(*_RELATED).order_by("-created_at").first()
    if latest is None:
        return None
    if latest.is_closed and latest.closed_at < timezone.now() - RECENTLY_CLOSED:
        return None
    return latest


def messages_after(conversation, after_seq=0):
    return list(conversation.messages.filter(seq__gt=after_seq).select_related("attachment").order_by("seq"))


def waiting_in_queues(queue_ids):
    return list(
        Conversation.objects.select_related(*_RELATED)
        .filter(status=Conversation.Status.QUEUED, queue_id__in=queue_ids)
        .order_by("created_at")
    )


def held_by(user):
    return list(
        Conversation.objects.select_related(*_RELATED, "site")
        .filter(librarian=user, status=Conversation.Status.ACTIVE)
        .order_by("assigned_at")
        .prefetch_related(Prefetch("messages", queryset=Message.objects.select_related("attachment")),
                          transfers_prefetch(), "topics")
    )


def held_ids(user_id):
    return list(
        Conversation.objects.filter(librarian_id=user_id, status=Conversation.Status.ACTIVE)
        .values_list("pk", flat=True)
    )


# ---- who may read which transcript (docs/audit.md)

ALL_TRANSCRIPTS_PERMISSION = "reference.view_all_transcripts"


def visible_transcripts(user):
    """The conversations `user` may read, as a filter (Q) on Conversation: the one rule for the
    transcript list and page, the dashboard's earlier chats and the transcript exports.

    Of their own libraries (reference.tenancy): where the library keeps transcripts by queue
    (Library.transcripts_by_queue), staff without reference.view_all_transcripts read only the chats
    of the queues they belong to and the chats they held themselves; elsewhere all of them. Of other
    libraries: only the chats they held, or offered or handed to or by them (a chat covered under
    reference.cover stays its home library's)."""
    their_transfers = Transfer.objects.filter(Q(from_user=user) | Q(to_user=user), conversation=OuterRef("pk"))
    theirs = Q(librarian=user) | Exists(their_transfers)
    own = tenancy.in_libraries(user)
    if user.has_perm(ALL_TRANSCRIPTS_PERMISSION):
        return own | theirs
    their_queues = Queue.objects.filter(members__user=user).values("pk")
    return (own & (Q(site__library__transcripts_by_queue=False) | Q(queue_id__in=their_queues))) | theirs


def visible_only(user, conversations):
    """Those of `conversations` (a list) that `user` may read, in their order: one query."""
    if not conversations:
        return []
    shown = set(Conversation.objects.filter(visible_transcripts(user), pk__in=[c.pk for c in conversations])
                .values_list("pk", flat=True))
    return [c for c in conversations if c.pk in shown]


def visible_transcript(user, pk, conversations=None):
    """One conversation `user` may read, else None (the caller answers 404: a hidden chat is not
    told apart from one that does not exist)."""
    conversations = Conversation.objects.all() if conversations is None else conversations
    return conversations.filter(visible_transcripts(user), pk=pk).first()


def transcripts(*, user, date_from=None, date_to=None, queue=None, librarian=None, text="", topic=None):
    """Closed conversations for staff, newest first, filtered as the transcript list allows. `text`:
    words the chat's messages hold, in any of their forms (reference.transcript_search)."""
    conversations = Conversation.objects.select_related(*_RELATED).filter(
        visible_transcripts(user), status=Conversation.Status.CLOSED
    )
    if date_from:
        conversations = conversations.filter(created_at__date__gte=date_from)
    if date_to:
        conversations = conversations.filter(created_at__date__lte=date_to)
    if queue:
        conversations = conversations.filter(queue=queue)
    if librarian:
        conversations = conversations.filter(librarian=librarian)
    if topic:
        conversations = conversations.filter(topics=topic)
    if text:
        conversations = conversations.filter(transcript_search.matching_conversations(text))
    return conversations.prefetch_related("topics").order_by("-created_at")


# ---- delivery: what a socket may read again, and how far each conversation has got

FETCH_LIMIT = 500  # messages per `fetch` answer; the client asks again from the last one


def patron_conversation(patron_id, conversation_id):
    """One of the patron's own conversations, or ServiceError("not_found")."""
    return _visible(Conversation.objects.filter(patron_id=patron_id), conversation_id)


def librarian_conversation(user, conversation_id):
    """A conversation the librarian holds or has held, or ServiceError("not_found")."""
    return _visible(Conversation.objects.filter(librarian=user), conversation_id)


def _visible(conversations, conversation_id):
    conversation = conversations.filter(pk=conversation_id).first()
    if conversation is None:
        raise ServiceError("not_found")
    return conversation


def messages_between(conversation, after_seq, before_seq=None, limit=FETCH_LIMIT):
    """Messages with after_seq < seq < before_seq, oldest first; and whether more remain."""
    messages = conversation.messages.filter(seq__gt=after_seq).select_related("attachment")
    if before_seq is not None:
        messages = messages.filter(seq__lt=before_seq)
    found = list(messages.order_by("seq")[: limit + 1])
    return found[:limit], len(found) > limit


def last_seqs(conversation_ids):
    """{conversation id: last_seq}, for heartbeats."""
    return dict(Conversation.objects.filter(pk__in=conversation_ids).values_list("pk", "last_seq"))


def open_offers_to(user):
    """Transfers offered to this librarian that still wait for an answer."""
    return list(Transfer.objects.filter(to_user=user, status=Transfer.Status.OFFERED, expires_at__gt=timezone.now())
                .select_related("conversation__patron", "from_user__librarian_profile", "to_user__librarian_profile",
                                "to_queue"))


def open_assignments_to(user):
    """Chats automatic routing offers this librarian, still waiting for an answer."""
    return list(AssignmentOffer.objects.filter(user=user, status=AssignmentOffer.Status.OFFERED,
                                               expires_at__gt=timezone.now())
                .select_related("conversation__patron", "conversation__queue"))


# ---- who holds what

def held_count(user_id):
    return Conversation.objects.filter(librarian_id=user_id, status=Conversation.Status.ACTIVE).count()


def conversation_for_holder(conversation_id):
    """A conversation with everything its new holder's dashboard shows: messages and transfers."""
    return (Conversation.objects.select_related(*_RELATED)
            .prefetch_related(Prefetch("messages", queryset=Message.objects.select_related("attachment")),
                              transfers_prefetch(), "topics")
            .get(pk=conversation_id))


def holder_workbench(conversation, viewer=None):
    """What librarians only see with a chat: its notes and its patron's, and the patron's earlier
    chats (keyword arguments of frames.conversation for its holder; the transcript page's too).
    The earlier chats listed are those `viewer` (default: the holder) may read. A librarian of
    another library (covering it, reference.cover) sees only this chat's own notes: the home
    library's notes about its patron stay the home library's."""
    earlier = history.patron_history(conversation)
    viewer = viewer or conversation.librarian
    shown = visible_only(viewer, earlier) if viewer is not None else earlier
    if viewer is not None and not _of_their_library(viewer, conversation):
        return {"notes": notes.conversation_notes(conversation), "history": shown}
    return {"notes": notes.notes_of(conversation, earlier), "history": shown}


def _of_their_library(user, conversation):
    return conversation.site.library_id in tenancy.library_ids(user)


# ---- what a socket's welcome carries

def patron_welcome(*, patron_id, conversation_id, last_seq, desk_queue_id):
    """The patron's conversation (or None), its messages after `last_seq`, the desk, and their place."""
    conversation = (Conversation.objects.select_related(*_RELATED).filter(pk=conversation_id, patron_id=patron_id)
                    .first() if conversation_id else None)
    welcome = {"conversation": None, "messages": [], "desk": offline_questions.desk_state(desk_queue_id)}
    if conversation is not None:
        welcome["conversation"] = frames.conversation_payload(conversation)
        welcome["messages"] = [frames.message_payload(m) for m in messages_after(conversation, last_seq)]
    return welcome, position_of(conversation) if conversation is not None else None


def position_of(conversation):
    """The `queue.position` frame of a waiting conversation, else None."""
    if conversation.status != Conversation.Status.QUEUED:
        return None
    return waiting.position_of(conversation)



def librarian_groups(user):
    """The ids of the librarian's libraries, of their active queues and of the chats they hold:
    what their sockets follow."""
    queue_ids = list(Queue.objects.filter(members__user=user, is_active=True).values_list("pk", flat=True))
    return sorted(tenancy.library_ids(user)), queue_ids, held_ids(user.pk)


def unread_by_librarian(conversation):
    """The patron's messages after the librarian's read mark: what the dashboard counts as unread
    (it reports a mark only for what was on screen in a visible tab). Uses the prefetched messages."""
    read = conversation.librarian_read_seq
    return sum(1 for m in conversation.messages.all() if m.role == Role.PATRON and m.seq > read)


def librarian_welcome(user, *, queue_ids, since):
    """Everything a dashboard's welcome carries. `since`: {conversation id: last seq the client
    has}; held chats come with the messages after it."""
    profile = LibrarianProfile.objects.get(user=user)
    held = []
    conversations = held_by(user)
    histories = history.histories(conversations)
    held_notes = notes.notes_by_conversation(conversations, histories)
    for conversation in conversations:
        if not _of_their_library(user, conversation):  # covered: as in holder_workbench
            held_notes[conversation.pk] = notes.conversation_notes(conversation)
        payload = frames.conversation_payload(conversation, for_librarian=True)
        after = since.get(conversation.pk, 0)
        payload["messages"] = [frames.message_payload(m) for m in conversation.messages.all() if m.seq > after]
        payload["unread"] = unread_by_librarian(conversation)
        payload["transfers"] = [frames.transfer_payload(t, conversation) for t in conversation.transfers.all()]
        payload["assessment"] = frames.assessment_payload(conversation)
        payload["notes"] = [frames.note_payload(n) for n in held_notes[conversation.pk]]
        payload["history"] = frames.history_payload(visible_only(user, histories[conversation.pk]))
        held.append(payload)
    queues = list(Queue.objects.filter(pk__in=queue_ids))
    library_ids = tenancy.library_ids(user)
    covered = [frames.conversation_payload(c, for_librarian=True, cover_of=a)
               for c, a in cover.coverable(library_ids)]
    return {
        "librarian": {"id": user.pk, "name": profile.display_name, "max_chats": profile.max_chats,
                      "status": profile.status},
        "colleagues": presence_roster(library_ids),
        "transfer_queues": [{"id": q.pk, "name": q.name}
                            for q in Queue.objects.filter(is_active=True, library_id__in=library_ids)],
        "offers": [frames.transfer_payload(t) for t in open_offers_to(user)],
        "assignments": [frames.offer_payload(o) for o in open_assignments_to(user)],
        "queues": [{"id": q.pk, "name": q.name} for q in queues],
        "waiting": [frames.conversation_payload(c, for_librarian=True, cover_of=None)
                    for c in waiting_in_queues(queue_ids)] + covered,
        "conversations": held,
        "assessment": assessment.setup(profile.library),
        "requeued_while_away": profile.requeued_while_away,  # reference.duty
    }


# ---- staying on duty (reference.duty)

def staff_page_welcome(profile):
    """What a staff page's duty bar starts from: how the librarian stands, as a `presence` payload
    (its socket has just beaten, so they are connected), and the chats offered to them (transfers,
    automatic routing) that wait for an answer on the dashboard."""
    return {"librarian": frames.presence_payload(profile, True, held_count(profile.user_id)),
            "offers": [t.pk for t in open_offers_to(profile.user)],
            "assignments": [o.pk for o in open_assignments_to(profile.user)]}
