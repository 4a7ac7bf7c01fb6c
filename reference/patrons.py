"""Who is asking: the patron a widget's signed token names, on the site that issued it."""

from reference import selectors
from reference.errors import ServiceError
from reference.models import Patron


def arrive(*, site, identity, language=None):
    """A widget said hello. `site`: the site's SiteSettings (None when it is gone or inactive).
    Checks that the token's patron belongs to that site and remembers the language the widget now
    speaks (notices are written in it). Returns the id of the patron's current conversation (open,
    or closed within the last hour), or None."""
    if site is None:
        raise ServiceError("token_invalid")
    patron = Patron.objects.filter(pk=identity.patron_id).first()
    if patron is None:
        return None  # they have not asked anything yet
    if patron.site_id != site.id:
        raise ServiceError("token_invalid")
    if language and patron.language != language:
        patron.language = language
        patron.save(update_fields=["language"])
    current = selectors.patron_current_conversation(patron)
    return current.pk if current is not None else None
