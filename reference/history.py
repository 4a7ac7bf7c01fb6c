"""A returning patron's earlier chats, for the librarian who answers them now.

The same person is the same widget identity (patron), or a patron with the same e-mail address
(case-insensitive) or the same library card number, on a site of the same library: history never
crosses from one library to another. Only chats created before this one, and, when the library sets
`retention_days`, no older than that. Newest first.
"""

from datetime import timedelta

from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from reference.errors import ServiceError
from reference.models import Conversation
from widgets.models import Site

SHOWN = 10  # earlier chats listed with a held chat; the count says how many there are in all


def _email(patron):
    return patron.email.strip().lower()


def _card(patron):
    card = getattr(patron, "library_card", None)
    return card.number.strip().upper() if card else ""


def histories(conversations):
    """{conversation id: its earlier chats, newest first}: one rule, three queries for any number."""
    # A chat whose patron was erased (reference.patron_data) has no history.
    found = {c.pk: [] for c in conversations if c.patron_id is None}
    conversations = [c for c in conversations if c.patron_id is not None]
    if not conversations:
        return found
    libraries = {site["pk"]: site for site in Site.objects.filter(pk__in={c.site_id for c in conversations})
                 .values("pk", "library_id", "library__retention_days")}
    emails = {_email(c.patron) for c in conversations} - {""}
    cards = {_card(c.patron) for c in conversations} - {""}
    same_person = Q(patron_id__in={c.patron_id for c in conversations})
    if emails:
        same_person |= Q(patron_email__in=emails)
    if cards:
        same_person |= Q(patron_card__in=cards)
    candidates = list(
        Conversation.objects.annotate(patron_email=Lower("patron__email"),
                                      patron_card=Upper("patron__library_card__number"))
        .filter(same_person, site__library_id__in={site["library_id"] for site in libraries.values()})
        .select_related("queue", "librarian__librarian_profile", "site")
        .order_by("-created_at", "-pk"))
    now = timezone.now()
    for conversation in conversations:
        library = libraries[conversation.site_id]
        days = library["library__retention_days"]
        since = now - timedelta(days=days) if days else None
        email, card = _email(conversation.patron), _card(conversation.patron)
        found[conversation.pk] = [
            earlier for earlier in candidates
            if earlier.pk != conversation.pk and earlier.created_at < conversation.created_at
            and earlier.site.library_id == library["library_id"]
            and (since is None or earlier.created_at >= since)
            and (earlier.patron_id == conversation.patron_id or (email and earlier.patron_email == email)
                 or (card and earlier.patron_card == card))]
    return found


def patron_history(conversation):
    """The earlier chats of the same person in the same library, newest first."""
    return histories([conversation])[conversation.pk]


def earlier_conversation(conversation, earlier_id):
    """One chat of `conversation`'s history, or ServiceError("not_found") when it is not in it."""
    for earlier in patron_history(conversation):
        if earlier.pk == earlier_id:
            return earlier
    raise ServiceError("not_found")
