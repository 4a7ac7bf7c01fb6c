"""Which library's FAQ a request is about (docs/faq.md "One FAQ per library").

Every library of the network has its own FAQ. Its public pages are at /l/<library slug>/faq/, at
/faq/ on its own host name (Library.public_host) when it has one, and — for the first library, the
embedded default — at /faq/ too. The JSON API answers for the widget's site (`site=<key>`), for a
chat on the dashboard (`conversation=<id>`), for a member of staff's current library, or else for
the first library. The staff pages work in reference.tenancy.current_library().

Another library's object is not told apart from one that does not exist (404).
"""

from dataclasses import dataclass

from django.db.models import Case, When
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from reference import tenancy
from reference.models import Conversation, Library, default_library
from widgets.models import Site


def first_library():
    """The first library (made if none): the embedded default, whose FAQ is at /faq/."""
    return Library.objects.get(pk=default_library())


def first_library_id():
    return default_library()


@dataclass
class PublicFaq:
    """A library's public FAQ as one request reached it: `home` is its index's path, which the
    pages' links start from (/faq/ or /l/<slug>/faq/)."""

    library: Library
    home: str

    def detail_url(self, slug):
        return f"{self.home}{slug}/"


def home_path(library):
    """The path of a library's FAQ index on the service's own host: /faq/ for the first library,
    /l/<slug>/faq/ for the others."""
    if library.pk == first_library_id() or not library.slug:
        return reverse("faq:index")
    return reverse("faq:library_index", args=[library.slug])


def _host(request):
    return request.get_host().rsplit(":", 1)[0].lower() if request.get_host() else ""


def public_faq(request, library_slug=None):
    """The PublicFaq of a public page: the library named in the path (404 if there is none), else
    the one whose own host the request came to, else the first library."""
    if library_slug is not None:
        library = Library.objects.filter(slug=library_slug).first()
        if library is None:
            raise Http404("No such library.")
        return PublicFaq(library, reverse("faq:library_index", args=[library.slug]))
    host = _host(request)
    # One query: the library on this host if there is one, else the first.
    library = (Library.objects.annotate(elsewhere=Case(When(public_host__iexact=host, then=0), default=1))
               .order_by("elsewhere", "pk").first() if host else None) or first_library()
    return PublicFaq(library, reverse("faq:index"))


class Refused(Exception):
    """The API cannot tell which library is meant: `status` (400 or 404) and a message to show."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def conversation_library(user, conversation_id):
    """The library of a chat on the dashboard: allowed to a member of that library, or to the
    librarian who holds or held it (covering for another library: reference.cover). Else Refused(404)."""
    missing = Refused(404, _("No such conversation."))
    if not (user.is_authenticated and user.is_staff):
        raise missing
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        raise Refused(400, _("The parameter “conversation” must be a conversation's number.")) from None
    conversation = Conversation.objects.select_related("site__library").filter(pk=conversation_id).first()
    if conversation is None:
        raise missing
    library = conversation.site.library
    if tenancy.belongs(user, library.pk) or conversation.librarian_id == user.pk:
        return library
    raise missing


def site_library(key):
    """The library of the widget's site (its public key); Refused(404) for an unknown key."""
    site = Site.objects.select_related("library").filter(key=key[:40]).first() if key else None
    if site is None:
        raise Refused(404, _("No such site."))
    return site, site.library


def api_library(request):
    """(site or None, library) whose FAQ an API call is about: `conversation`, else `site`, else a
    member of staff's current library, else the first library. Refused for a bad or unknown one."""
    params = request.GET
    if "conversation" in params:
        return None, conversation_library(request.user, params["conversation"])
    if "site" in params:
        return site_library(params["site"])
    user = request.user
    if user.is_authenticated and user.is_staff and tenancy.library_ids(user):
        return None, tenancy.current_library(request)
    return None, first_library()
