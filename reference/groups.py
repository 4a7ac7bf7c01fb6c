"""Channel-layer group names: who hears about what.

| group | members |
|---|---|
| `conv.<id>` | every socket following a conversation: the patron's widgets, the holder's dashboards |
| `patron.<uuid>` | every widget of one patron (a conversation started in one tab reaches the others) |
| `librarian.<user id>` | every dashboard of one librarian |
| `queue.<id>` | every dashboard of the queue's members |
| `cover.<library id>` | every dashboard of the library's librarians: chats of others it may take |
| `staff.<library id>` | every staff page of the library's librarians: presence, load, topics |
| `session.<hash>` | every staff socket opened with one login session: closed when it logs out |
"""

import hashlib


def staff(library_id):
    return f"staff.{library_id}"


def cover(library_id):
    return f"cover.{library_id}"


def cover_library_of(group):
    """The library id of a `cover` group name, else None."""
    prefix, _dot, library_id = group.partition(".")
    return int(library_id) if prefix == "cover" else None


def conversation(conversation_id):
    return f"conv.{conversation_id}"


def conversation_of(group):
    """The conversation id of a `conversation` group name, else None."""
    prefix, _dot, conversation_id = group.partition(".")
    return int(conversation_id) if prefix == "conv" else None


def queue(queue_id):
    return f"queue.{queue_id}"


def librarian(user_id):
    return f"librarian.{user_id}"


def patron(patron_id):
    return f"patron.{patron_id.hex if hasattr(patron_id, 'hex') else patron_id}"


def session(session_key):
    """A login session's sockets. Hashed: a group name is seen by the channel layer (and Redis),
    and a session key is a password to the account."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]
