"""Starting a chat from a test the way the patron's socket does (with the site's settings), and a
chat a librarian holds, through the services (the socket-level equivalent is conftest's `chat`)."""

from reference import lifecycle
from widgets.selectors import desk_settings


def start_chat(*, identity, **fields):
    """lifecycle.do_start for the site the patron's token names. Returns (conversation, message, created)."""
    return lifecycle.do_start(site=desk_settings(identity.site_key), identity=identity, **fields)


def held_chat(*, identity, librarian, text="Apakah buka hari Minggu?", client_id="p-1", **fields):
    """A patron asks `text` and `librarian` claims it. Returns the conversation."""
    conversation, _message, _created = start_chat(identity=identity, text=text, client_id=client_id, **fields)
    return lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
