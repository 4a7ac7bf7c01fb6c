"""python manage.py faq_import FILE.json [--draft] [--library SLUG]: upsert FAQ entries by slug into
one library's FAQ (the first library unless --library names another)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reference.errors import ServiceError
from reference.faq.libraries import first_library
from reference.faq.services import import_records, load_default_synonyms
from reference.models import Library

DEMO_FAQ = Path(__file__).resolve().parents[2] / "fixtures" / "faq-demo.json"


def load_demo_faq(stdout):
    """The demo FAQ (a city library's, reference/fixtures/faq-demo.json) and the synonym list."""
    load_default_synonyms()
    saved, errors = import_records(json.loads(DEMO_FAQ.read_text(encoding="utf-8")))
    stdout.write(f"Demo FAQ: {len(saved)} entries" + (f", {len(errors)} errors" if errors else ""))


class Command(BaseCommand):
    help = "Import FAQ entries from a JSON array (upsert by slug); published unless --draft."

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON file: [{slug, language, question, answer, topics, translation_of?}]")
        parser.add_argument("--draft", action="store_true", help="Import as drafts instead of publishing.")
        parser.add_argument("--library", metavar="SLUG",
                            help="The library whose FAQ they join (its address name); default: the first library.")

    def handle(self, *args, file, draft, library=None, **options):
        if library:
            found = Library.objects.filter(slug=library).first()
            if found is None:
                known = ", ".join(Library.objects.order_by("pk").values_list("slug", flat=True))
                raise CommandError(f"No library with the address name “{library}” (there are: {known}).")
        else:
            found = first_library()
        try:
            with open(file, encoding="utf-8") as f:
                records = json.load(f)
        except (OSError, ValueError) as e:
            raise CommandError(f"{file}: {e}") from e
        try:
            saved, errors = import_records(records, publish=not draft, library=found)
        except ServiceError as e:
            raise CommandError(e.message) from e
        for index, message in errors:
            self.stderr.write(f"record {index}: {message}")
        self.stdout.write(f"{len(saved)} entries imported into {found.name}'s FAQ, {len(errors)} with errors.")
        if errors:
            raise CommandError(f"{len(errors)} records could not be imported (see above).", returncode=1)
