"""python manage.py add_library "Perpustakaan Tebing Tinggi" [--slug s] [--queue "General"]
[--site-origin https://…] [--admin username --admin-email … --admin-password …] [--service-url https://…]

The service's administrator adds a library to the network (docs/network-admin-reports.md): the
library, its first queue, a widget site whose default queue that is and, if asked, the library's own
administrator (staff, in the group "Library administrators", home library the new one). Everything
is checked first and made in one transaction: bad input changes nothing.
"""

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email, validate_slug
from django.db import transaction
from django.utils import translation
from django.utils.text import slugify

from reference.models import LibrarianProfile, Library, Queue
from widgets.models import Site, normalise_origin

ADMIN_GROUP = "Library administrators"

# What a library's administrator may do in the admin; reference.admin limits it to their libraries.
ADMIN_PERMISSIONS = {
    "reference.library": ["view", "change"],
    "reference.queue": ["view", "add", "change", "delete"],
    "reference.topic": ["view", "add", "change", "delete"],
    "reference.cannedreply": ["view", "add", "change", "delete"],
    "reference.librarianprofile": ["view", "add", "change", "delete"],
    "reference.coveragreement": ["view", "add", "change", "delete"],
    "reference.conversation": ["view"],
    "reference.patron": ["view"],
    "reference.patronblock": ["view", "change"],
    "reference.auditevent": ["view"],
    "reference.faqentry": ["view", "add", "change", "delete"],
    "reference.faqsearchmiss": ["view", "change", "delete"],
    "reference.faqsynonym": ["view"],
    "reference.faqspelling": ["view"],
    "reference.faqtopic": ["view"],
    "reference.surveyquestion": ["view", "add", "change", "delete"],
    "widgets.site": ["view", "add", "change", "delete"],
    "auth.user": ["view", "add", "change"],
}
# The desk's own rights, for their libraries only (reference.tenancy).
ADMIN_EXTRA = ["reference.view_desk_reports", "reference.view_audit_trail", "reference.view_all_transcripts",
               "reference.manage_shared_cannedreply"]


def library_admin_group():
    """The group "Library administrators", made with its permissions if missing (an existing one is
    left as the service's administrator set it)."""
    group, created = Group.objects.get_or_create(name=ADMIN_GROUP)
    if created:
        codenames = [(model.split(".")[0], f"{action}_{model.split('.')[1]}")
                     for model, actions in ADMIN_PERMISSIONS.items() for action in actions]
        codenames += [tuple(name.split(".")) for name in ADMIN_EXTRA]
        wanted = [Permission.objects.get(content_type__app_label=app, codename=codename)
                  for app, codename in codenames]
        group.permissions.set(wanted)
    return group


def _free_queue_slug(base):
    slug, number = base[:50], 1
    while Queue.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base[:45]}-{number}"
    return slug


def check_new_library(*, name, slug, queue, site_origin, admin, admin_email, admin_password):
    """The problems with the request, in words; empty when it can be made."""
    problems = []
    name = name.strip()
    if not name:
        problems.append("The library needs a name.")
    elif len(name) > Library._meta.get_field("name").max_length:
        problems.append("The name is too long (at most 120 characters).")
    elif Library.objects.filter(name__iexact=name).exists():
        problems.append(f"A library called “{name}” already exists.")
    if slug is not None:
        try:
            validate_slug(slug)
        except ValidationError:
            problems.append(f"“{slug}” is not an address name: use letters, digits, - and _ only.")
        else:
            if len(slug) > Library._meta.get_field("slug").max_length:
                problems.append("The address name is too long (at most 60 characters).")
            elif Library.objects.filter(slug=slug).exists():
                problems.append(f"The address name “{slug}” is taken by another library.")
    if not queue.strip():
        problems.append("The first queue needs a name.")
    elif not slugify(queue):
        problems.append(f"“{queue}” gives no queue address: use some letters or digits.")
    if site_origin is not None:
        try:
            normalise_origin(site_origin)
        except ValueError:
            problems.append(f"“{site_origin}” is not an origin such as https://perpustakaan.example.org")
    if admin is None:
        if admin_email or admin_password:
            problems.append("--admin-email and --admin-password go with --admin <username>.")
        return problems
    User = get_user_model()
    try:
        User.username_validator(admin)
    except ValidationError:
        problems.append(f"“{admin}” is not a user name: letters, digits and @ . + - _ only.")
    if User.objects.filter(username=admin).exists():
        problems.append(f"A user called “{admin}” already exists.")
    if admin_email:
        try:
            validate_email(admin_email)
        except ValidationError:
            problems.append(f"“{admin_email}” is not an e-mail address.")
    if admin_password is not None:
        try:
            password_validation.validate_password(admin_password, User(username=admin, email=admin_email or ""))
        except ValidationError as weak:
            problems.extend(weak.messages)
    return problems


@transaction.atomic
def do_add_library(*, name, slug, queue, site_origin, admin, admin_email, admin_password):
    """Make the library, its first queue, its widget site and (if asked) its administrator.
    Returns (library, queue, site, user or None)."""
    library = Library.objects.create(name=name.strip(), slug=slug or "")
    first_queue = Queue.objects.create(library=library, name=queue.strip(),
                                       slug=_free_queue_slug(slugify(f"{library.slug}-{queue}")))
    site = Site.objects.create(name=library.name, library=library, default_queue=first_queue,
                               allowed_origins=normalise_origin(site_origin) if site_origin else "")
    user = None
    if admin is not None:
        user = get_user_model().objects.create_user(admin, email=admin_email or "", password=admin_password,
                                                    is_staff=True)
        user.groups.add(library_admin_group())
        profile = LibrarianProfile.objects.create(user=user, library=library, display_name=admin[:60])
        profile.queues.set([first_queue])
    return library, first_queue, site, user


class Command(BaseCommand):
    help = ("Add a library to the network: the library, its first queue, a widget site and optionally its own "
            "administrator. Prints the embed tag and the address of its FAQ.")

    def add_arguments(self, parser):
        parser.add_argument("name", help="The library's name, as patrons and staff read it.")
        parser.add_argument("--slug", help="Its address name (/l/<slug>/faq/); made from the name if left out.")
        parser.add_argument("--queue", default="General", help="The name of its first queue (default: General).")
        parser.add_argument("--site-origin", help="The library web site that embeds the chat, e.g. https://example.org")
        parser.add_argument("--admin", help="User name of the library's own administrator, made now.")
        parser.add_argument("--admin-email", help="Their e-mail address.")
        parser.add_argument("--admin-password", help="Their password; left out, they cannot log in until one is "
                                                     "set (manage.py changepassword).")
        parser.add_argument("--service-url", default="", help="This service's address, for the embed tag, e.g. "
                                                              "https://tanya.example.org")

    def handle(self, *args, name, slug, queue, site_origin, admin, admin_email, admin_password, service_url,
               **options):
        request = dict(name=name, slug=slug, queue=queue, site_origin=site_origin, admin=admin,
                       admin_email=admin_email, admin_password=admin_password)
        with translation.override("en"):  # the command speaks English, as the others do
            problems = check_new_library(**request)
        if problems:
            raise CommandError("Nothing was created: " + " ".join(problems))
        library, first_queue, site, user = do_add_library(**request)
        base = service_url.rstrip("/")
        self.stdout.write(f"Library “{library.name}” added (address name {library.slug}), "
                          f"first queue “{first_queue.name}”, widget site “{site.name}”.")
        if user is not None:
            self.stdout.write(f"Its administrator: {user.username} (staff, group “{ADMIN_GROUP}”)."
                              + ("" if admin_password else " Set a password with: manage.py changepassword "
                                                           + user.username))
        if not site.allowed_origins:
            self.stdout.write("The widget site has no allowed origin yet: add the library's web site in the admin.")
        self.stdout.write("Embed tag for the library's web pages:")
        self.stdout.write(f'<script src="{base}/widget.js" data-site="{site.key}" async></script>')
        self.stdout.write(f"Public FAQ: {base}/l/{library.slug}/faq/")
