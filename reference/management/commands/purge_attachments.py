"""python manage.py purge_attachments [--hours 24]: delete uploads no message ever sent."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from reference.attachments import purge_unsent


class Command(BaseCommand):
    help = "Delete attached files that were uploaded but never sent in a message (run it daily)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=24, help="Only uploads older than this (default 24).")

    def handle(self, *args, hours, **options):
        count = purge_unsent(older_than=timezone.now() - timedelta(hours=hours))
        self.stdout.write(f"{count} unsent attachment(s) deleted.")
