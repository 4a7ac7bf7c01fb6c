"""python manage.py apply_retention [--dry-run]: anonymise or delete what has outlived its period."""

from django.core.management.base import BaseCommand

from reference.retention import apply_retention


class Command(BaseCommand):
    help = ("Anonymise chats and delete files, comments, search logs, old FAQ revisions and audit entries "
            "past each library's retention periods (run it daily). Prints what it did.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; change nothing.")

    def handle(self, *args, dry_run, **options):
        result = apply_retention(dry_run=dry_run)
        self.stdout.write("Dry run: nothing was changed. This would be done:" if dry_run else "Done:")
        for line in result.lines():
            self.stdout.write(line)
        for library, counts in result.by_library.items():
            self.stdout.write(f"{library}: " + ", ".join(f"{count} {kind}" for kind, count in counts.items()))
