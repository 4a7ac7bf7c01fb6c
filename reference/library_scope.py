"""The staff pages' library (reference.tenancy.current_library) as the views use it: its staff,
and the choices of a filter form limited to that library.

A staff page that works "in a library" (topics, canned replies, reports, the audit trail, offline
questions, a patron's data) reads and changes that library's things only; a page about one object
(a transcript, a file) checks the object's library instead (tenancy.check_library or
selectors.visible_transcripts). docs/network.md, "Staff pages and the current library".
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from reference.models import Queue, Topic


def staff_of(library):
    """The staff who belong to `library`: it is their home or one of their other libraries."""
    return (get_user_model().objects.filter(is_staff=True)
            .filter(Q(librarian_profile__library=library) | Q(librarian_profile__other_libraries=library))
            .distinct().select_related("librarian_profile").order_by("librarian_profile__display_name", "pk"))


def limit_choices(form, library, *, queue="queue", librarian="librarian", topic="topic"):
    """A filter form's queue, librarian and topic menus with `library`'s only; a value of another
    library is then refused by the form like one that does not exist."""
    choices = {queue: Queue.objects.filter(library=library), librarian: staff_of(library),
               topic: Topic.objects.filter(library=library)}
    for name, queryset in choices.items():
        if name in form.fields:
            form.fields[name].queryset = queryset
    return form
