"""“Siti is typing…”: transient, stored nowhere, sent straight to the conversation's other sockets."""

from reference import frames, groups
from reference.errors import ServiceError
from reference.events import publish_now


def check_typing(*, conversation_id, role, following):
    """A patron types in their current conversation; a librarian in one their socket holds."""
    if conversation_id is None:
        raise ServiceError("no_conversation")
    if role == "librarian" and conversation_id not in following:
        raise ServiceError("not_assigned")


async def do_send_typing(*, conversation_id, role, author, active, following, origin):
    check_typing(conversation_id=conversation_id, role=role, following=following)
    await publish_now(groups.conversation(conversation_id), frames.typing(conversation_id, role, author, active),
                      origin=origin)
