"""The life of a conversation: a patron starts it, a librarian claims it, either side closes it.

Each function checks the rules first (raising ServiceError before anything changes), then makes
the change in one transaction and publishes the frames that tell connected sockets.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reference import events, handoff, offline_questions, prechat, presence, routing, waiting
from reference.errors import ServiceError
from reference.messaging import append_message, notice_language, store_notice
from reference.models import Conversation, LibrarianProfile, Patron, Role
from reference.payloads import conversation_frame, librarian_name
from reference.presence_store import get_store
from reference.validation import clean_client_id, clean_text
from widgets.models import LibraryCard, Site


def patron_for(identity, *, language=None):
    """The patron a token names, or None when they have not asked anything yet."""
    site = Site.objects.filter(key=identity.site_key, is_active=True).first()
    if site is None:
        raise ServiceError("token_invalid")
    patron = Patron.objects.filter(pk=identity.patron_id).first()
    if patron is not None and patron.site_id != site.pk:
        raise ServiceError("token_invalid")
    if patron is not None and language and patron.language != language:
        patron.language = language
        patron.save(update_fields=["language"])
    return site, patron


def start_conversation(*, identity, text, client_id, name="", email="", card_number="", language="id",
                       offline=False, queue_id=None):
    """A patron asks a question: a new conversation waits in the site's default queue.

    `name`, `email`, `card_number`, `queue_id`: the pre-chat form, checked against what the site
    asks for (reference.prechat). `queue_id`: one of the site's queue choices, else the default queue.
    `offline`: nobody is on duty, so the question is left for an answer by email (reference.offline)
    instead of waiting live; it needs an email address.

    Returns (conversation, first_message, created). A retried start (same client id) returns the
    conversation it already made.
    """
    text = clean_text(text)
    clean_client_id(client_id)
    site, patron = patron_for(identity)
    details = prechat.clean_details(site, name=name, email=email, card_number=card_number, queue_id=queue_id,
                                    offline=offline)
    queue = _chosen_queue(site, details.queue_id)
    if patron is not None:
        retried = patron.conversations.filter(messages__seq=1, messages__client_id=client_id).first()
        if retried is not None:
            return retried, retried.messages.get(seq=1), False
        if patron.conversations.exclude(status=Conversation.Status.CLOSED).exists():
            raise ServiceError("conversation_open")
    try:
        with transaction.atomic():
            patron = _save_patron(identity, site, name=details.name, email=details.email, language=language)
            if details.card_number:
                LibraryCard.objects.update_or_create(patron=patron, defaults={"number": details.card_number})
            conversation = Conversation.objects.create(
                patron=patron, site=site, queue=queue, subject=text[:280]
            )
            message = append_message(conversation, role=Role.PATRON, text=text,
                              client_id=client_id, author_name=patron.name)
            if offline:
                offline_questions.leave(conversation)
            else:
                _announce_new(conversation, message)
    except IntegrityError:
        # Another start for the same patron committed first (one open conversation each).
        raise ServiceError("conversation_open") from None
    return conversation, message, True


def _chosen_queue(site, queue_id):
    if queue_id is None or queue_id == site.default_queue_id:
        return site.default_queue
    queue = site.queue_choices.filter(pk=queue_id, is_active=True).first()
    if queue is None:
        raise ServiceError("unknown_queue")
    return queue


def _save_patron(identity, site, *, name, email, language):
    patron, created = Patron.objects.get_or_create(
        pk=identity.patron_id, defaults={"site": site, "name": name, "email": email, "language": language}
    )
    if not created:
        patron.name = name or patron.name
        patron.email = email or patron.email
        patron.language = language
        patron.save(update_fields=["name", "email", "language"])
    return patron


def _announce_new(conversation, message):
    events.publish(
        events.patron_group(conversation.patron_id),
        conversation_frame(conversation, messages=[message]),
    )
    events.publish_waiting(conversation)
    # Nobody ahead moves when a chat joins at the back: the patron's own socket tells them their
    # place (PatronConsumer.send_position), so there is no need to tell every waiting patron.
    routing.assign_later([conversation.queue_id])


def librarian_profile(user):
    """The profile of a staff user, made on first use so a new colleague can log straight in."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        raise ServiceError("not_authenticated")
    profile, _created = LibrarianProfile.objects.get_or_create(
        user=user, defaults={"display_name": user.get_short_name() or user.get_username()}
    )
    return profile


def claim_conversation(*, user, conversation_id):
    """A librarian takes a waiting conversation. Of two claims at the same instant, one wins."""
    profile = librarian_profile(user)
    with transaction.atomic():
        conversation = _visible_conversation(profile, conversation_id)
        if conversation.status == Conversation.Status.ACTIVE and conversation.librarian_id == user.pk:
            return conversation  # a repeated claim from another tab: already ours
        if conversation.is_closed:
            raise ServiceError("conversation_closed")
        if conversation.status != Conversation.Status.QUEUED:
            raise ServiceError("already_claimed")
        # Lock our profile so two claims of ours cannot both pass the capacity check.
        LibrarianProfile.objects.select_for_update().get(pk=profile.pk)
        held = Conversation.objects.filter(librarian=user, status=Conversation.Status.ACTIVE).count()
        if held >= profile.max_chats:
            raise ServiceError("at_capacity", limit=profile.max_chats)
        now = timezone.now()
        won = Conversation.objects.filter(pk=conversation.pk, status=Conversation.Status.QUEUED).update(
            status=Conversation.Status.ACTIVE, librarian=user, assigned_at=now
        )
        if not won:
            raise ServiceError("already_claimed")
        routing.settle_offers_on_claim(conversation, user)
        conversation = Conversation.objects.select_for_update(of=("self",)).select_related(
            "patron", "queue", "librarian__librarian_profile"
        ).get(pk=conversation.pk)
        with notice_language(conversation):
            store_notice(conversation, _("%(name)s joined the chat.") % {"name": profile.display_name})
        # The claimer's tabs get the whole history, and the notes of any transfer that brought it here.
        events.publish(events.librarian_group(user.pk), handoff.librarian_conversation_frame(conversation))
        events.publish(events.conversation_group(conversation.pk), conversation_frame(conversation))
        events.publish(
            events.queue_group(conversation.queue_id),
            {"type": "queue.removed", "conversation": conversation.pk, "reason": "claimed"},
        )
        waiting.publish_positions(conversation.queue_id)
        presence.announce(profile)
    return conversation


def _visible_conversation(profile, conversation_id):
    conversation = (
        Conversation.objects.select_related("patron", "queue").filter(pk=conversation_id).first()
    )
    if conversation is None:
        raise ServiceError("not_found")
    if conversation.librarian_id != profile.user_id and not profile.queues.filter(
        pk=conversation.queue_id
    ).exists():
        raise ServiceError("not_member")
    return conversation


def close_by_patron(*, patron):
    conversation = patron.conversations.exclude(status=Conversation.Status.CLOSED).first()
    if conversation is None:
        raise ServiceError("no_conversation")
    return _close(conversation.pk, role=Role.PATRON)


def close_by_librarian(*, user, conversation_id):
    librarian_profile(user)
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise ServiceError("not_found")
    if conversation.librarian_id != user.pk:
        raise ServiceError("not_assigned")
    return _close(conversation.pk, role=Role.LIBRARIAN, user=user)


def abandon_waiting(now):
    """Waiting chats whose patron left (no widget alive for ABANDON_GRACE) end as abandoned; a
    patron who came back within the grace period has kept their place."""
    store = get_store("patrons")
    for patron_id in store.lapsed(now - settings.ABANDON_GRACE):
        if store.connected([patron_id], now=now):
            continue
        waiting_chat = Conversation.objects.filter(patron_id=patron_id, status=Conversation.Status.QUEUED).first()
        if waiting_chat is not None:
            try:
                _close(waiting_chat.pk, role=Role.SYSTEM, notice=_("The patron left before a librarian could answer."))
            except ServiceError:
                pass  # claimed or closed meanwhile
        store.forget(patron_id)


def _close(conversation_id, *, role, user=None, notice=None):
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update(of=("self",)).select_related(
            "patron", "queue", "librarian__librarian_profile"
        ).get(pk=conversation_id)
        if conversation.is_closed or (role == Role.SYSTEM and conversation.status != Conversation.Status.QUEUED):
            raise ServiceError("conversation_closed")
        was_waiting = conversation.status == Conversation.Status.QUEUED
        conversation.status = Conversation.Status.CLOSED
        conversation.closed_at = timezone.now()
        conversation.closed_by_role = role
        conversation.closed_by = user
        conversation.save(update_fields=["status", "closed_at", "closed_by_role", "closed_by"])
        with notice_language(conversation):
            if notice is None and role == Role.PATRON:
                notice = _("The patron closed the chat.")
            elif notice is None:
                notice = _("%(name)s closed the chat.") % {"name": librarian_name(user)}
            store_notice(conversation, str(notice))
        events.publish(events.conversation_group(conversation.pk), conversation_frame(conversation))
        if was_waiting:
            events.publish(
                events.queue_group(conversation.queue_id),
                {"type": "queue.removed", "conversation": conversation.pk, "reason": "closed"},
            )
            waiting.publish_positions(conversation.queue_id)
            routing.settle_offers_on_close(conversation)
        elif conversation.librarian_id:
            presence.announce(conversation.librarian.librarian_profile)
            routing.assign_later(routing.member_queue_ids(conversation.librarian_id))  # room for one more
    return conversation
