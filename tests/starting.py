"""Starting a chat from a test the way the patron's socket does: with the site's settings."""

from reference import lifecycle
from widgets.selectors import desk_settings


def start_chat(*, identity, **fields):
    """lifecycle.do_start for the site the patron's token names. Returns (conversation, message, created)."""
    return lifecycle.do_start(site=desk_settings(identity.site_key), identity=identity, **fields)
