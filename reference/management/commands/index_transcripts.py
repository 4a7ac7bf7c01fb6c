"""python manage.py index_transcripts [--batch 1000]: the search terms of every message, from its text."""

from django.core.management.base import BaseCommand, CommandError

from reference.transcript_search import reindex


class Command(BaseCommand):
    help = ("Set the search terms of every chat message from its text, for staff transcript search: once after "
            "upgrading, and after the search's informal spellings or analysis change. Only messages whose "
            "terms differ are written; running it again changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=1000, help="Messages per transaction (default 1000).")

    def handle(self, *args, batch, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        read, changed = reindex(batch=batch)
        self.stdout.write(f"{read} message(s) read, {changed} updated.")
