"""Demo data for trying the service on a laptop: queues, a widget site and two staff users."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from reference.management.commands.faq_import import load_demo_faq
from reference.models import LibrarianProfile, Library, Queue, Topic
from widgets.models import Site

DEMO_SITE_KEY = "tebingtinggi-demo"
DEMO_QUEUES = [
    ("umum", "Umum"),
    ("anak", "Anak-anak"),
    ("sejarah-lokal", "Sejarah Lokal"),
    ("literasi-digital", "Literasi Digital"),
]
DEMO_USERS = [
    # username, password, display name, superuser
    ("pustakawan", "tanya-demo-2026", "Siti", False),
    ("admin", "admin-demo-2026", "Admin", True),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo queues, widget site and staff users. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--origin", action="append", default=[],
                            help="Another host-page origin allowed to embed the demo widget.")

    @transaction.atomic
    def handle(self, *args, origin, **options):
        library = Library.objects.order_by("pk").first() or Library()
        library.name = "Perpustakaan Kota Tebing Tinggi"
        # The library's published contacts: the widget's privacy notice lists them, redaction keeps them.
        library.public_contacts = library.public_contacts or "(0621) 21555\nperpustakaan@tebingtinggikota.go.id"
        library.save()
        queues = [Queue.objects.update_or_create(slug=slug, defaults={"name": name})[0]
                  for slug, name in DEMO_QUEUES]
        site, _ = Site.objects.update_or_create(key=DEMO_SITE_KEY, defaults={
            "name": "Perpustakaan Kota Tebing Tinggi",
            "library": library,
            "default_queue": queues[0],
            "greeting": "Halo! Ada yang bisa kami bantu? Pustakawan kami siap menjawab.",
            "age_group_field": "optional",  # children ask too: the parent's notice, the shorter period
        })
        origins = dict.fromkeys([*site.origins, *origin])
        site.allowed_origins = "\n".join(origins)
        site.full_clean()
        site.save()
        site.queue_choices.set(queues)  # the patron may pick a department
        User = get_user_model()
        for username, password, display_name, superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            user.is_staff = True
            user.is_superuser = superuser
            if created:
                user.set_password(password)
            user.save()
            profile, _ = LibrarianProfile.objects.update_or_create(
                user=user, defaults={"display_name": display_name, "library": library})
            profile.queues.set(queues)
        self.stdout.write(f"Demo site key: {site.key}")
        load_demo_faq(self.stdout)
        load_demo_topics(site.library, self.stdout)
        load_demo_canned_replies(User.objects.get(username="pustakawan"))


# The topics librarians tag the demo library's chats with (reference.assessment): Indonesian, English.
DEMO_TOPICS = [
    ("Jam buka dan lokasi", "Opening hours and location"),
    ("Keanggotaan", "Membership"),
    ("Peminjaman dan pengembalian", "Loans and returns"),
    ("Denda", "Fines"),
    ("Katalog dan koleksi", "Catalogue and collection"),
    ("Perpustakaan digital", "Digital library"),
    ("Aplikasi dan akun", "App and account"),
    ("Sejarah lokal", "Local history"),
    ("Layanan anak", "Children's services"),
    ("Penelusuran dan riset", "Research help"),
    ("Fasilitas", "Facilities"),
    ("Acara dan pelatihan", "Events and training"),
]


def load_demo_topics(library, stdout):
    """The demo library's topics, kept as they are when they exist (staff may have renamed them)."""
    for label_id, label_en in DEMO_TOPICS:
        Topic.objects.get_or_create(library=library, label_id=label_id, defaults={"label_en": label_en})
    stdout.write(f"Topics: {library.topics.count()}")


# title, shared with the whole library (else the demo librarian's own), Indonesian text, English text
DEMO_CANNED_REPLIES = [
    ("Salam pembuka", True,
     "Halo {patron_name}, saya {librarian_name} dari {library_name}. Ada yang bisa saya bantu?",
     "Hello {patron_name}, I am {librarian_name} from {library_name}. How can I help you?"),
    ("Jam layanan hari ini", True,
     "Jam layanan {queue_name} hari ini: {opening_hours_today}.",
     "Today's hours for {queue_name}: {opening_hours_today}."),
    ("Perpanjang pinjaman", True,
     "Pinjaman bisa diperpanjang satu kali untuk 7 hari lewat katalog daring (menu Akun Saya) atau di meja "
     "sirkulasi, selama bukunya tidak sedang dipesan orang lain.",
     "You can renew a loan once for 7 days in the online catalogue (My Account) or at the circulation desk, "
     "as long as nobody has reserved the book."),
    ("Penutup", True,
     "Terima kasih sudah bertanya, {patron_name}. Kalau ada pertanyaan lain, silakan hubungi kami lagi.",
     "Thank you for asking, {patron_name}. If anything else comes up, just get in touch again."),
    ("Sebentar, saya cek", False,
     "Mohon tunggu sebentar ya, {patron_name}, saya cek dulu.",
     "One moment please, {patron_name}, let me check."),
]


def load_demo_canned_replies(librarian):
    """A few canned replies in both languages: shared with the library, and the demo librarian's own."""
    from reference import canned
    from reference.models import CannedReply

    library = librarian.librarian_profile.library
    for title, shared, text_id, text_en in DEMO_CANNED_REPLIES:
        scope = CannedReply.Scope.LIBRARY if shared else CannedReply.Scope.PERSONAL
        reply, _created = CannedReply.objects.update_or_create(
            library=library, title=title, scope=scope, owner=None if shared else librarian,
            defaults={"text_id": text_id, "text_en": text_en})
        canned.check_texts(reply)
