"""Canned replies: texts a librarian inserts into the reply box instead of typing them again.

A reply is personal (its owner's), shared with the members of a queue, or shared with the whole
library. Personal replies are changed only by their owner; shared ones only by staff with
`reference.manage_shared_cannedreply` (superusers have it), within the library the staff page works
in (`library_id`: the current library, reference.library_scope; by default their home library). In
a chat, the shared replies are those of the chat's library; a librarian covering for another
library (reference.cover) gets only the replies it shares with the chat's queue. Each reply has an
Indonesian and an English text; using one in a chat gives the text in the patron's language with
its {variables} filled in (VARIABLES), and counts the use. The text then goes into the reply box,
where the librarian may still edit it, and out as an ordinary chat message.

In a text, `{name}` is a variable and `{{` / `}}` stand for a brace itself; anything else in braces,
or a brace on its own, is refused when the reply is saved, so using a reply never fails on its text.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.dateformat import time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reference import frames, handoff, hours, presence, tenancy
from reference.errors import ServiceError
from reference.models import CannedReply, Queue
from reference.validation import clean_text

Scope = CannedReply.Scope
MANAGE_SHARED = "reference.manage_shared_cannedreply"
TITLE_MAX_LENGTH = CannedReply._meta.get_field("title").max_length
VARIABLES = ("patron_name", "librarian_name", "opening_hours_today", "library_name", "queue_name")
PLACEHOLDERS = tuple("{" + name + "}" for name in VARIABLES)  # as written in a text
TEXT_FIELDS = {"text_id": gettext_lazy("Indonesian"), "text_en": gettext_lazy("English")}

# "{{" and "}}" are braces; "{…}" on one line is a variable; any other brace is out of place.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]")


# ---- texts and their variables -----------------------------------------------------------------

@dataclass(frozen=True)
class _Variable:
    name: str


def _parts(text, *, field=None):
    """The text as literal strings and _Variables; ServiceError for an unknown variable or a stray brace."""
    parts, last = [], 0
    for match in _TOKEN.finditer(text):
        parts.append(text[last:match.start()])
        last = match.end()
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            parts.append(token[0])
        elif name is None:
            near = text[max(0, match.start() - 15):match.end() + 15].replace("\n", " ")
            raise ServiceError("canned_bad_brace", field=field, language=TEXT_FIELDS.get(field, ""), near=near)
        elif name not in VARIABLES:
            raise ServiceError("canned_unknown_variable", field=field, language=TEXT_FIELDS.get(field, ""),
                               name=name, known=", ".join(PLACEHOLDERS))
        else:
            parts.append(_Variable(name))
    parts.append(text[last:])
    return parts


def fill(text, values, *, field=None):
    """`text` with its variables replaced by `values` (one pass: a value's own braces stay as they are)."""
    return "".join(values[part.name] if isinstance(part, _Variable) else part for part in _parts(text, field=field))


def check_texts(reply):
    """For the admin's form (CannedReply.clean): the same checks on both texts as the services."""
    errors = {}
    for field in TEXT_FIELDS:
        if not getattr(reply, field).strip():
            continue  # the form says "required" already
        try:
            _clean_template(getattr(reply, field), field=field)
        except ServiceError as refused:
            errors[field] = refused.message
    if errors:
        raise ValidationError(errors)


def patron_language(patron):
    return "en" if (patron.language or "").startswith("en") else "id"


def opening_hours_today(queue, at=None):
    """Today's opening hours of `queue`, in the active language: "08.00–12.00, 13.00–16.00"."""
    today = hours.hours_on(queue.opening_hours, at)
    if today is None:
        return _("open all day")
    if not today:
        return _("closed today")
    # Translators: how a time of day is written in opening hours (a Django time format): "H.i" gives 08.00.
    clock = _("H:i")
    return ", ".join(f"{time_format(opens, clock)}–{time_format(closes, clock)}" for opens, closes in today)


def variables(conversation, user):
    """The values of every variable for `conversation`, in its patron's language."""
    with translation.override(patron_language(conversation.patron)):
        return {
            # Translators: how a canned reply addresses a patron who gave no name ("Hello friend!").
            "patron_name": conversation.patron.name or _("friend"),
            "librarian_name": frames.librarian_name(user),
            "opening_hours_today": opening_hours_today(conversation.queue),
            "library_name": conversation.site.library.name,
            "queue_name": conversation.queue.name,
        }


def render(reply, conversation, user, values=None):
    """The reply as this conversation's patron reads it: their language, variables filled in."""
    field = "text_en" if patron_language(conversation.patron) == "en" else "text_id"
    return fill(getattr(reply, field), values or variables(conversation, user), field=field)


# ---- who may use and change which replies ------------------------------------------------------

def can_manage_shared(user):
    return user.has_perm(MANAGE_SHARED)


def library_of(user, profile, library_id=None):
    """The library whose shared replies a page works with: `library_id` if `user` belongs to it
    (else ServiceError), by default their home library."""
    if library_id is None:
        return profile.library_id
    if not tenancy.belongs(user, library_id):
        raise ServiceError("canned_not_found")
    return library_id


def _usable(user, profile, library_id, queue_ids=()):
    """Own personal replies, and the library's: shared with all of it, or with one of `profile`'s queues
    (or of `queue_ids`)."""
    queues = Q(queue__in=profile.queues.all())
    if queue_ids:
        queues |= Q(queue_id__in=list(queue_ids))
    return (Q(scope=Scope.PERSONAL, owner=user)
            | Q(library_id=library_id) & (Q(scope=Scope.LIBRARY) | Q(scope=Scope.QUEUE) & queues))


def _listed(user, profile, library_id):
    """What the management dialog lists: every usable reply and, for staff who manage shared
    replies, every shared reply of the library."""
    condition = _usable(user, profile, library_id)
    if can_manage_shared(user):
        condition |= Q(library_id=library_id) & ~Q(scope=Scope.PERSONAL)
    return condition


def may_change(user, profile, reply, library_id=None):
    if reply.scope == Scope.PERSONAL:
        return reply.owner_id == user.pk
    return reply.library_id == library_of(user, profile, library_id) and can_manage_shared(user)


def _search(replies, query):
    query = (query or "").strip()
    if query:
        replies = replies.filter(Q(title__icontains=query) | Q(text_id__icontains=query)
                                 | Q(text_en__icontains=query))
    return replies.select_related("queue").order_by(
        "-usage_count", F("last_used_at").desc(nulls_last=True), "title", "pk")


# ---- selectors ---------------------------------------------------------------------------------

def usable_replies(user, *, conversation=None, query="", library_id=None):
    """The replies `user` may insert, most used first. For a conversation, those of its library, and
    the replies shared with its queue count too (a colleague may have handed over a chat from a queue
    one is not a member of); covering another library's chat, only its queue's and one's own."""
    profile = presence.librarian_profile(user)
    if conversation is None:
        return _search(CannedReply.objects.filter(_usable(user, profile, library_of(user, profile, library_id))),
                       query)
    chat_library = conversation.site.library_id
    if tenancy.belongs(user, chat_library):
        condition = _usable(user, profile, chat_library, [conversation.queue_id])
    else:
        condition = (Q(scope=Scope.PERSONAL, owner=user)
                     | Q(library_id=chat_library, scope=Scope.QUEUE, queue_id=conversation.queue_id))
    return _search(CannedReply.objects.filter(condition), query)


def listed_replies(user, *, query="", library_id=None):
    """[(reply, may change it)] for the management dialog, most used first."""
    profile = presence.librarian_profile(user)
    library_id = library_of(user, profile, library_id)
    return [(reply, may_change(user, profile, reply, library_id))
            for reply in _search(CannedReply.objects.filter(_listed(user, profile, library_id)), query)]


def share_queues(user, library_id=None):
    """The queues `user` may share a reply with: the library's active queues, for staff who manage
    shared replies."""
    if not can_manage_shared(user):
        return []
    library_id = library_of(user, presence.librarian_profile(user), library_id)
    return list(Queue.objects.filter(is_active=True, library_id=library_id))


def replies_for_conversation(user, *, conversation_id, query=""):
    """[(reply, its text as this chat's patron would get it)] for a chat `user` holds."""
    conversation = handoff.check_held(user, conversation_id)
    values = variables(conversation, user)
    return [(reply, render(reply, conversation, user, values))
            for reply in usable_replies(user, conversation=conversation, query=query)]


def payload(reply, *, editable=None, preview=None):
    """A reply for the dashboard; `editable` for the management dialog, `preview` for the picker."""
    data = {
        "id": reply.pk, "title": reply.title, "scope": reply.scope, "scope_label": reply.get_scope_display(),
        "queue": {"id": reply.queue_id, "name": reply.queue.name} if reply.queue_id else None,
        "text_id": reply.text_id, "text_en": reply.text_en, "usage_count": reply.usage_count,
        "last_used_at": reply.last_used_at.isoformat() if reply.last_used_at else None,
    }
    if editable is not None:
        data["editable"] = editable
    if preview is not None:
        data["preview"] = preview
    return data


# ---- services ----------------------------------------------------------------------------------

def _clean(user, *, title, text_id, text_en, scope, queue_id, library_id):
    """The fields to store, checked in the order of the form; ServiceError (with `field`) on the first fault."""
    if not isinstance(title, str):
        raise ServiceError("invalid_frame", field="title")
    title = " ".join(title.split())
    if not title:
        raise ServiceError("canned_title_empty", field="title")
    if len(title) > TITLE_MAX_LENGTH:
        raise ServiceError("canned_title_too_long", field="title", limit=TITLE_MAX_LENGTH)
    if scope not in Scope.values:
        raise ServiceError("canned_bad_scope", field="scope")
    if scope != Scope.PERSONAL and not can_manage_shared(user):
        raise ServiceError("canned_forbidden", field="scope")
    queue = None
    if scope == Scope.QUEUE:
        if queue_id in (None, ""):
            raise ServiceError("canned_queue_required", field="queue")
        if isinstance(queue_id, bool) or not str(queue_id).isdigit():
            raise ServiceError("unknown_queue", field="queue")
        queue = Queue.objects.filter(pk=int(queue_id), is_active=True, library_id=library_id).first()
        if queue is None:
            raise ServiceError("unknown_queue", field="queue")
    texts = {field: _clean_template(text, field=field) for field, text in (("text_id", text_id), ("text_en", text_en))}
    return {"title": title, "scope": scope, "queue": queue, **texts}


def _clean_template(text, *, field):
    language = TEXT_FIELDS[field]
    try:
        text = clean_text(text)
    except ServiceError as refused:
        if refused.code == "empty_message":
            raise ServiceError("canned_text_empty", field=field, language=language) from None
        if refused.code == "message_too_long":
            raise ServiceError("canned_text_too_long", field=field, language=language, **refused.params) from None
        raise ServiceError("invalid_frame", field=field) from None
    _parts(text, field=field)
    return text


def _changeable(user, profile, reply_id, library_id):
    """The reply `user` is about to change, under its row lock: 404 when they cannot see it, 403 when
    they may see but not change it."""
    reply = (CannedReply.objects.select_for_update().filter(_listed(user, profile, library_id), pk=reply_id).first()
             if isinstance(reply_id, int) else None)
    if reply is None:
        raise ServiceError("canned_not_found")
    if not may_change(user, profile, reply, library_id):
        raise ServiceError("canned_forbidden")
    return reply


def do_create_reply(*, user, title, text_id, text_en, scope=Scope.PERSONAL, queue_id=None, library_id=None):
    profile = presence.librarian_profile(user)
    library_id = library_of(user, profile, library_id)
    fields = _clean(user, title=title, text_id=text_id, text_en=text_en, scope=scope, queue_id=queue_id,
                    library_id=library_id)
    return CannedReply.objects.create(library_id=library_id,
                                      owner=user if scope == Scope.PERSONAL else None, **fields)


def do_update_reply(*, user, reply_id, title, text_id, text_en, scope=Scope.PERSONAL, queue_id=None,
                    library_id=None):
    """Change a reply's title, texts and sharing; its usage count stays."""
    profile = presence.librarian_profile(user)
    library_id = library_of(user, profile, library_id)
    with transaction.atomic():
        reply = _changeable(user, profile, reply_id, library_id)
        fields = _clean(user, title=title, text_id=text_id, text_en=text_en, scope=scope, queue_id=queue_id,
                        library_id=library_id)
        for name, value in fields.items():
            setattr(reply, name, value)
        reply.owner = user if scope == Scope.PERSONAL else None
        reply.library_id = library_id
        # Not usage_count: a use counted meanwhile must not be written over.
        reply.save(update_fields=[*fields, "owner", "library", "updated_at"])
    return reply


def do_delete_reply(*, user, reply_id, library_id=None):
    profile = presence.librarian_profile(user)
    with transaction.atomic():
        _changeable(user, profile, reply_id, library_of(user, profile, library_id)).delete()


def do_use_reply(*, user, reply_id, conversation_id):
    """The reply's text for a chat `user` holds (patron's language, variables filled in); counts the use."""
    conversation = handoff.check_held(user, conversation_id)
    reply = usable_replies(user, conversation=conversation).filter(pk=reply_id).first() \
        if isinstance(reply_id, int) else None
    if reply is None:
        raise ServiceError("canned_not_found")
    text = render(reply, conversation, user)
    CannedReply.objects.filter(pk=reply.pk).update(usage_count=F("usage_count") + 1, last_used_at=timezone.now())
    return text
