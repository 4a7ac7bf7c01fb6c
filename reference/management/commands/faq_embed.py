"""python manage.py faq_embed [--missing]: the FAQ search's semantic vectors (docs/search.md)."""

from django.core.management.base import BaseCommand, CommandError

from reference.faq.search import semantic
from reference.faq.search.indexing import embed_entries


class Command(BaseCommand):
    help = ("Compute the semantic vector of every published FAQ entry (with --missing, of those without one) "
            "and clear the vectors of entries that are not published.")

    def add_arguments(self, parser):
        parser.add_argument("--missing", action="store_true", help="Only entries that have no vector yet.")

    def handle(self, *args, missing, **options):
        if not semantic.enabled():
            raise CommandError("The semantic leg is off (FAQ_SEMANTIC=0): nothing to compute.")
        written, cleared = embed_entries(missing_only=missing)
        self.stdout.write(f"{written} vectors computed, {cleared} cleared (entries not published).")
