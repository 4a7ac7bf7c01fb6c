"""Libraries as tenants: which libraries a member of staff belongs to, and which one a staff page
works in. docs/network.md says how a network of libraries is set up.

Every library of the service has its own sites, queues, librarians, FAQ, transcripts and reports.
A librarian belongs to their home library (LibrarianProfile.library) and to the others they also
work for (LibrarianProfile.other_libraries), with the same rights in each. The one way into another
library's chats is a cover agreement (reference.cover).

Staff pages (transcripts, reports, FAQ editing, topics, canned replies…) work in one library at a
time: the current one, which a librarian of several picks in the staff bar; it is kept in the login
session. The dashboard follows the queues the librarian is a member of, whichever library they are in.

A superuser is the service's administrator: they belong to every library, and in the admin they see
and add every library; a library's own administrators (staff with admin rights) see only their
libraries' objects there (reference.admin).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from reference.models import LibrarianProfile, Library

SESSION_KEY = "current_library"


def library_ids(user):
    """The ids of the libraries `user` belongs to (empty for someone without a librarian profile;
    every library for a superuser, the service's administrator). Kept on the user object."""
    cached = getattr(user, "_library_ids", None)
    if cached is not None:
        return cached
    ids = frozenset()
    if user is not None and user.is_authenticated and user.is_superuser:
        ids = frozenset(Library.objects.values_list("pk", flat=True))
    elif user is not None and user.is_authenticated:
        profile = LibrarianProfile.objects.filter(user=user).only("library_id").first()
        if profile is not None:
            ids = frozenset([profile.library_id, *profile.other_libraries.values_list("pk", flat=True)])
    user._library_ids = ids
    return ids


def libraries_of(user):
    """The libraries `user` belongs to, home first."""
    ids = library_ids(user)
    home = home_library_id(user)
    return sorted(Library.objects.filter(pk__in=ids), key=lambda library: (library.pk != home, library.name))


def home_library_id(user):
    profile = LibrarianProfile.objects.filter(user=user).only("library_id").first()
    return profile.library_id if profile is not None else min(library_ids(user), default=None)


def belongs(user, library_id):
    return library_id in library_ids(user)


def check_library(user, library_id):
    """404 unless `user` belongs to the library: another library's object is not told apart from
    one that does not exist."""
    if not belongs(user, library_id):
        raise Http404


def current_library_id(request):
    """The library the staff pages work in: the one chosen this session if the user still belongs
    to it, else their home library. PermissionDenied for someone who belongs to none (not staff)."""
    ids = library_ids(request.user) or _first_use(request.user)
    if not ids:
        raise PermissionDenied
    chosen = request.session.get(SESSION_KEY)
    return chosen if chosen in ids else home_library_id(request.user)


def _first_use(user):
    """A new colleague's profile (in the first library) is made on their first staff page, as on
    the dashboard; then their libraries are read again."""
    from reference import presence
    from reference.errors import ServiceError

    try:
        presence.librarian_profile(user)
    except ServiceError:  # not staff
        return frozenset()
    user._library_ids = None
    return library_ids(user)


def current_library(request):
    cached = getattr(request, "_current_library", None)
    if cached is None:
        cached = request._current_library = Library.objects.get(pk=current_library_id(request))
    return cached


def choose_library(request, library_id):
    """The staff bar's library switch; 404 for a library the user does not belong to."""
    check_library(request.user, library_id)
    request.session[SESSION_KEY] = library_id
    request._current_library = None


def in_libraries(user, field="site__library"):
    """A filter (Q) on a model whose library is reached through `field`: the user's libraries."""
    return Q(**{f"{field}__in": library_ids(user)})
