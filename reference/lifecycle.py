"""The life of a conversation. Every change of its status, queue or librarian is made here.

    do_start ─► queued ──do_claim──────────► active ──do_close_by_librarian──► closed
                 │ ▲ ▲                         │  │   do_close_by_patron
                 │ │ └──do_requeue (holder gone)┘  └─do_hand_over (to a colleague), stays active
                 │ └────do_send_to_queue───────┘
                 ├─do_roll_over (to the fallback queue), stays queued
                 └─do_close_by_patron / do_abandon ─► closed
    do_start(offline=True) ─► closed, offline ──do_answer_offline_question──► answered by email
    active (covered) ──do_leave_for_email──► closed, offline (reference.cover)

Each `do_*` checks its rules first (a ServiceError before anything changes; `check_*` where a rule
is worth naming), makes the change under the conversation's row lock, and ends in `_changed`, which
works out from the conversation as it was and as it is who must hear of it: the holder who lost the
chat, the notice the patron reads (in their language), the conversation's sockets, the new holder,
the queues it left and joined, the positions of the patrons waiting there, assignment, and the
presence of every librarian whose load changed. Callers never fan out a change themselves.

handoff, routing and presence keep their own rules (who may take a chat, who is offered one, who is
connected) and call a `do_*` here for the change. Every `do_*` takes the `outbox` its frames go to
(reference.events); without one, they go out as the transaction commits.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reference import (
    assessment,
    audit,
    cover,
    frames,
    groups,
    offline_questions,
    prechat,
    presence,
    routing,
    selectors,
    tenancy,
    waiting,
)
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.messaging import NewMessage, store
from reference.models import Conversation, LibrarianProfile, LibraryCard, Patron, Queue, Role, Transfer
from reference.validation import clean_client_id, clean_text

Status = Conversation.Status


@dataclass(frozen=True)
class _Before:
    """What `_changed` compares the conversation with."""

    status: str | None
    queue_id: int | None
    librarian_id: int | None

    @classmethod
    def of(cls, conversation):
        return cls(conversation.status, conversation.queue_id, conversation.librarian_id)


NEW = _Before(None, None, None)


# ---- a patron asks

def do_start(*, site, identity, text, client_id, name="", email="", card_number="", age_group="", language="id",
             offline=False, queue_id=None, faq_opt_out=False, outbox=None):
    """A patron asks a question: a new conversation waits in the chosen queue (the site's default
    queue unless the pre-chat form offers a choice). `site`: the widget site's settings as plain
    values (reference.prechat.SiteSettings). `offline`: nobody is on duty, so the question is left
    for an answer by email instead of waiting live; it needs an email address. `age_group`: the
    pre-chat form's answer (reference.models.AgeGroup). `faq_opt_out`: the patron ticked "Don't use
    my question in the public FAQ" (recorded in the audit trail).

    Returns (conversation, first_message, created). A retried start (same client id) returns the
    conversation it already made."""
    if site is None:
        raise ServiceError("token_invalid")
    text = clean_text(text)
    clean_client_id(client_id)
    details = prechat.clean_details(site, name=name, email=email, card_number=card_number, queue_id=queue_id,
                                    age_group=age_group, offline=offline)
    patron = Patron.objects.filter(pk=identity.patron_id).first()
    if patron is not None and patron.site_id != site.id:
        raise ServiceError("token_invalid")
    if patron is not None:
        # With what its frames name: the consumer answers a retry from the event loop.
        retried = (patron.conversations.select_related("patron", "queue", "librarian__librarian_profile")
                   .filter(messages__seq=1, messages__client_id=client_id).first())
        if retried is not None:
            return retried, retried.messages.select_related("attachment").get(seq=1), False
        if patron.conversations.exclude(status=Status.CLOSED).exists():
            raise ServiceError("conversation_open")
    queue = Queue.objects.get(pk=details.queue_id)
    outbox = outbox_or_direct(outbox)
    try:
        with transaction.atomic():
            patron = _save_patron(identity, site, details, language)
            # Nobody else sees it before the commit: no row lock needed.
            conversation = Conversation.objects.create(patron=patron, site_id=site.id, queue=queue, subject=text[:280],
                                                       age_group=details.age_group, faq_opt_out=bool(faq_opt_out))
            if conversation.faq_opt_out:
                audit.record(audit.Action.OPT_OUT, actor=audit.PATRON, library_id=site.library_id,
                             conversation_id=conversation.pk, opt_out=True)
            message, _created = store(NewMessage(role=Role.PATRON, text=text, conversation_id=conversation.pk,
                                                 client_id=client_id, author_name=patron.name), outbox=outbox)
            conversation.last_seq = message.seq
            if offline:
                _leave_offline(conversation, outbox)
            else:
                _changed(conversation, NEW, outbox, reason="started", first_messages=[message])
    except IntegrityError:
        # Another start for the same patron committed first (one open conversation each).
        raise ServiceError("conversation_open") from None
    return conversation, message, True


def _save_patron(identity, site, details, language):
    patron, created = Patron.objects.get_or_create(
        pk=identity.patron_id,
        defaults={"site_id": site.id, "name": details.name, "email": details.email, "language": language})
    if not created:
        patron.name = details.name or patron.name
        patron.email = details.email or patron.email
        patron.language = language
        patron.save(update_fields=["name", "email", "language"])
    if details.card_number:
        LibraryCard.objects.update_or_create(patron=patron, defaults={"number": details.card_number})
    return patron


def _leave_offline(conversation, outbox):
    """Nobody is on duty: the question is kept, closed at once, for an answer by email."""
    conversation.is_offline = True
    conversation.status = Status.CLOSED
    conversation.closed_at = timezone.now()
    conversation.closed_by_role = Role.PATRON
    conversation.save(update_fields=["is_offline", "status", "closed_at", "closed_by_role"])
    _notice(conversation, outbox, lambda: _("Thank you. Nobody can answer live right now; a librarian will send "
                                            "the answer to %(email)s.") % {"email": conversation.patron.email})
    outbox.publish(groups.patron(conversation.patron_id),
                   frames.conversation(conversation, messages=conversation.messages.order_by("seq")))
    outbox.publish(groups.queue(conversation.queue_id), frames.offline_added(conversation.pk))


# ---- a librarian takes it

def check_claim(profile, conversation, now=None):
    """May this librarian claim this conversation? A member of its queue may; a librarian of another
    library may under a cover agreement in force (reference.cover): returns that agreement, else
    None. (The capacity check needs the profile's lock.)"""
    if conversation.is_closed:
        raise ServiceError("conversation_closed")
    if conversation.status != Status.QUEUED:
        raise ServiceError("already_claimed")
    if profile.queues.filter(pk=conversation.queue_id).exists():
        return None
    if tenancy.belongs(profile.user, conversation.queue.library_id):
        raise ServiceError("not_member")
    return cover.check_cover(profile.user, conversation, now)


def do_claim(*, user, conversation_id, outbox=None):
    """A librarian takes a waiting conversation. Of two claims at the same instant, one wins."""
    profile = presence.librarian_profile(user)
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status == Status.ACTIVE and conversation.librarian_id == user.pk:
            return conversation  # a repeated claim from another tab: already ours
        agreement = check_claim(profile, conversation)
        _check_room(user.pk, "at_capacity")
        before = _Before.of(conversation)
        conversation.status = Status.ACTIVE
        conversation.librarian = user
        conversation.assigned_at = timezone.now()
        conversation.first_assigned_at = conversation.first_assigned_at or conversation.assigned_at
        _held_under(conversation, agreement)
        conversation.save(update_fields=["status", "librarian", "assigned_at", "first_assigned_at",
                                         "cover_agreement", "covering_library"])
        _changed(conversation, before, outbox_or_direct(outbox), reason="claimed",
                 notice=lambda: _("%(name)s joined the chat.") % {"name": profile.display_name})
    return conversation


def do_hand_over(*, transfer, user, outbox=None):
    """The colleague a chat was offered to accepts it (reference.handoff checks the offer): from now
    on it is theirs, with its whole history and the note."""
    with transaction.atomic():
        conversation = _locked(transfer.conversation_id)
        if conversation.status != Status.ACTIVE or conversation.librarian_id != transfer.from_user_id:
            return None  # the chat moved on since it was offered
        _check_room(user.pk, "at_capacity")
        before = _Before.of(conversation)
        conversation.librarian = user
        conversation.assigned_at = timezone.now()
        if tenancy.belongs(user, conversation.queue.library_id):
            _held_under(conversation, None)  # back with its own library
        conversation.save(update_fields=["librarian", "assigned_at", "cover_agreement"])
        name = frames.librarian_name(user)
        _changed(conversation, before, outbox_or_direct(outbox), reason="transferred", to=name,
                 notice=lambda: _("%(name)s has taken over the chat.") % {"name": name})
    return conversation


# ---- back to a queue

def do_send_to_queue(*, user, conversation_id, queue, note="", outbox=None):
    """A librarian sends a chat they hold to another queue, with a note for the librarians there:
    it waits there (by its age) for a member to claim it. (reference.handoff has withdrawn any offer
    of it to a colleague.)"""
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status != Status.ACTIVE or conversation.librarian_id != user.pk:
            raise ServiceError("not_assigned")
        Transfer.objects.create(conversation=conversation, from_user=user, to_queue=queue, note=note,
                                status=Transfer.Status.REQUEUED, answered_at=timezone.now())
        before = _Before.of(conversation)
        _requeue(conversation, queue)
        _changed(conversation, before, outbox_or_direct(outbox), reason="transferred", to=queue.name,
                 notice=lambda: _("You are being passed on to %(queue)s; a librarian there will be with you "
                                  "shortly. Everything you wrote stays here.") % {"queue": queue.name})
    return conversation


def do_requeue(*, conversation_id, librarian_id, outbox=None):
    """The librarian is gone (reference.presence): a chat they held goes back to its queue and the
    patron is told. It keeps its place by age; nothing said so far is touched. False when the chat
    had moved on already."""
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status != Status.ACTIVE or conversation.librarian_id != librarian_id:
            return False
        name = conversation.librarian.librarian_profile.display_name
        before = _Before.of(conversation)
        _requeue(conversation, conversation.queue)
        _changed(conversation, before, outbox_or_direct(outbox), reason="offline",
                 notice=lambda: _("%(name)s is no longer available. You are back in the queue, at the front; "
                                  "nothing you wrote is lost.") % {"name": name})
    return True


def do_roll_over(*, conversation_id, queue, outbox=None):
    """Nobody in `queue` took the chat in time (reference.routing): it moves to the fallback queue,
    keeping its place by age. False when it had moved on already."""
    target = queue.fallback_queue
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status != Status.QUEUED or conversation.queue_id != queue.pk:
            return False
        before = _Before.of(conversation)
        _requeue(conversation, target)
        _changed(conversation, before, outbox_or_direct(outbox), reason="rolled_over",
                 notice=lambda: _("Nobody at %(queue)s could answer yet, so your question has gone to %(fallback)s. "
                                  "You keep your place.") % {"queue": queue.name, "fallback": target.name})
    return True


def _requeue(conversation, queue):
    conversation.status = Status.QUEUED
    conversation.queue = queue
    conversation.queued_at = timezone.now()  # the fallback clock starts again; its place is by age
    conversation.librarian = None
    conversation.assigned_at = None
    conversation.cover_agreement = None  # nobody holds it under an agreement any more
    conversation.save(update_fields=["status", "queue", "queued_at", "librarian", "assigned_at", "cover_agreement"])


def _held_under(conversation, agreement):
    """Record the cover agreement the chat is now held under (None: by its own library). The
    covering library stays recorded after the chat goes home, for the network's reports."""
    conversation.cover_agreement = agreement
    if agreement is not None:
        conversation.covering_library_id = agreement.covering_id


# ---- the end

def do_close_by_patron(*, patron_id, outbox=None):
    conversation = Conversation.objects.filter(patron_id=patron_id).exclude(status=Status.CLOSED).first()
    if conversation is None:
        raise ServiceError("no_conversation")
    return _close(conversation.pk, outbox, role=Role.PATRON, notice=lambda: _("The patron closed the chat."))


def do_close_by_librarian(*, user, conversation_id, outbox=None):
    presence.librarian_profile(user)
    name = frames.librarian_name(user)
    return _close(conversation_id, outbox, role=Role.LIBRARIAN, user=user,
                  notice=lambda: _("%(name)s closed the chat.") % {"name": name})


def do_close_for_block(*, user, conversation_id, notice, outbox=None):
    """The holder blocks the patron (reference.blocking): the chat ends at once with `notice` (called
    in the patron's language), whether or not the library's assessment is filled in."""
    return _close(conversation_id, outbox, role=Role.LIBRARIAN, user=user, notice=notice, assess=False)


def do_abandon(*, conversation_id, outbox=None):
    """The patron left a waiting chat (reference.presence): it ends as abandoned. False when it had
    been claimed or closed meanwhile."""
    try:
        _close(conversation_id, outbox, role=Role.SYSTEM, only_waiting=True,
               notice=lambda: _("The patron left before a librarian could answer."))
    except ServiceError:
        return False
    return True


def _close(conversation_id, outbox, *, role, notice, user=None, only_waiting=False, assess=True):
    with transaction.atomic():
        conversation = _locked(conversation_id)
        # A librarian closes what they hold, checked under the lock: a chat handed on a moment ago is not theirs.
        if role == Role.LIBRARIAN and conversation.librarian_id != user.pk:
            raise ServiceError("not_assigned")
        if conversation.is_closed or (only_waiting and conversation.status != Status.QUEUED):
            raise ServiceError("conversation_closed")
        if role == Role.LIBRARIAN and assess:
            assessment.check_assessed(conversation)  # a library may ask for topics and READ first
        before = _Before.of(conversation)
        conversation.status = Status.CLOSED
        conversation.closed_at = timezone.now()
        conversation.closed_by_role = role
        conversation.closed_by = user
        conversation.save(update_fields=["status", "closed_at", "closed_by_role", "closed_by"])
        _changed(conversation, before, outbox_or_direct(outbox), reason="closed", notice=notice)
    return conversation


def do_leave_for_email(*, user, conversation_id, note="", outbox=None):
    """A covering librarian leaves a chat they hold for its own library to answer by email
    (reference.handoff.do_return_offline checks who may): the live chat ends for the patron, and the
    question waits among the home library's offline questions with the note, as if left offline."""
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation.status != Status.ACTIVE or conversation.librarian_id != user.pk:
            raise ServiceError("not_assigned")
        home = conversation.cover_agreement.home
        Transfer.objects.create(conversation=conversation, from_user=user, to_queue=conversation.queue, note=note,
                                status=Transfer.Status.REQUEUED, answered_at=timezone.now())
        before = _Before.of(conversation)
        conversation.status = Status.CLOSED
        conversation.is_offline = True
        conversation.first_response_at = None  # the e-mail is the answer the offline list waits for
        conversation.closed_at = timezone.now()
        conversation.closed_by_role = Role.LIBRARIAN
        conversation.closed_by = user
        conversation.cover_agreement = None
        conversation.save(update_fields=["status", "is_offline", "first_response_at", "closed_at", "closed_by_role",
                                         "closed_by", "cover_agreement"])
        outbox = outbox_or_direct(outbox)
        _changed(conversation, before, outbox, reason="closed", notice=lambda: _(
            "%(library)s will answer your question by email at %(email)s. Everything you wrote is kept.")
            % {"library": home.name, "email": conversation.patron.email})
        outbox.publish(groups.queue(conversation.queue_id), frames.offline_added(conversation.pk))
    return conversation


def do_answer_offline_question(*, user, conversation_id, text, outbox=None):
    """A librarian answers a question left offline: kept in the transcript, and sent by email once
    stored. Returns the answer."""
    text = clean_text(text)
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if not tenancy.belongs(user, conversation.site.library_id):
            raise ServiceError("not_found")  # another library's question: answered by its own staff
        if not conversation.is_offline:
            raise ServiceError("not_offline")
        if conversation.first_response_at is not None:
            raise ServiceError("already_answered")
        if conversation.anonymised_at is not None:
            raise ServiceError("anonymised")  # nobody to send it to any more
        message, _created = store(NewMessage(role=Role.LIBRARIAN, text=text, conversation_id=conversation.pk,
                                             author=user, author_name=frames.librarian_name(user), live=False),
                                  outbox=outbox)
        conversation.first_response_at = message.created_at
        conversation.librarian = user
        conversation.closed_by = user
        conversation.save(update_fields=["first_response_at", "librarian", "closed_by"])
        transaction.on_commit(lambda: offline_questions.send_answer(conversation, message))
    return message


# ---- the one step every change ends in

def _changed(conversation, before, outbox, *, reason, notice=None, to=None, first_messages=()):
    """Tell everyone a change concerns, in the order their screens need. The caller holds the
    conversation's row lock inside the change's transaction, and has saved the change.
    `first_messages`: what a new conversation starts with, for the patron's other tabs."""
    now = _Before.of(conversation)
    lost_holder = before.librarian_id if before.librarian_id not in (None, now.librarian_id) else None
    if lost_holder is not None:
        # First, so the old holder's dashboards stop following the chat before its notice goes out.
        outbox.publish(groups.librarian(lost_holder), frames.conversation_released(conversation.pk, reason, to=to))
    if notice is not None:
        _notice(conversation, outbox, notice)
    if now.status == Status.ACTIVE and now.librarian_id != before.librarian_id:
        # The new holder's tabs get the whole history, and the notes of any transfer that brought it.
        conversation = selectors.conversation_for_holder(conversation.pk)
        outbox.publish(groups.librarian(now.librarian_id), frames.conversation(
            conversation, for_librarian=True, messages=conversation.messages.all(),
            transfers=conversation.transfers.all(), **selectors.holder_workbench(conversation)))
    if before is NEW:
        outbox.publish(groups.patron(conversation.patron_id), frames.conversation(conversation,
                                                                                  messages=first_messages))
    else:
        outbox.publish(groups.conversation(conversation.pk), frames.conversation(conversation))
    _changed_queues(conversation, before, now, outbox, reason)
    held_before, held_now = _holder(before), _holder(now)
    if held_before != held_now:
        for user_id in {held_before, held_now} - {None}:
            presence.announce(LibrarianProfile.objects.get(user_id=user_id), outbox=outbox)
        if held_before is not None:
            routing.assign_later(routing.member_queue_ids(held_before), outbox)  # room for one more


def _changed_queues(conversation, before, now, outbox, reason):
    left = before.queue_id if before.status == Status.QUEUED else None
    joined = now.queue_id if now.status == Status.QUEUED else None
    if left is not None and left != joined:
        outbox.publish(groups.queue(left), frames.queue_removed(conversation.pk, reason))
        cover.publish_removed(conversation.pk, left, reason, outbox)
        routing.settle_assignments(conversation, outbox, taken_by=now.librarian_id)
        waiting.publish_positions(left, outbox)
    if joined is not None and joined != left:
        transfers = conversation.transfers.all() if reason == "transferred" else None
        outbox.publish(groups.queue(joined), frames.queue_added(conversation, transfers=transfers))
        cover.publish_added(conversation, outbox, transfers=transfers)
        if before is not NEW:  # a new chat joins at the back: nobody ahead moves
            waiting.publish_positions(joined, outbox)
        routing.assign_later([joined], outbox)


def _holder(state):
    return state.librarian_id if state.status == Status.ACTIVE else None


def _notice(conversation, outbox, text):
    """A system message in the patron's language (they are the one reading it live); `text` is
    called with that language active."""
    with translation.override(conversation.patron.language or None):
        body = str(text())
    message, _created = store(NewMessage(role=Role.SYSTEM, text=body, conversation_id=conversation.pk, live=False),
                              outbox=outbox)
    conversation.last_seq = message.seq


def _locked(conversation_id):
    conversation = (Conversation.objects.select_for_update(of=("self",))
                    .select_related("patron", "queue", "librarian__librarian_profile",
                                    "cover_agreement__home", "cover_agreement__covering")
                    .filter(pk=conversation_id).first())
    if conversation is None:
        raise ServiceError("not_found")
    return conversation


def _check_room(user_id, code):
    """Lock the librarian's profile so two takes of theirs cannot both pass, then count."""
    profile = LibrarianProfile.objects.select_for_update().get(user_id=user_id)
    if selectors.held_count(user_id) >= profile.max_chats:
        raise ServiceError(code, limit=profile.max_chats, name=profile.display_name)
