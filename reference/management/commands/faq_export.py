"""python manage.py faq_export [-o FILE] [--status published]: the faq_import format."""

import json

from django.core.management.base import BaseCommand

from reference.faq.services import export_records
from reference.models import FaqEntry


class Command(BaseCommand):
    help = "Write FAQ entries as a JSON array in the faq_import format."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", help="File to write (default: standard output).")
        parser.add_argument("--status", choices=FaqEntry.Status.values, help="Only entries with this status.")

    def handle(self, *args, output, status, **options):
        qs = FaqEntry.objects.all()
        if status:
            qs = qs.filter(status=status)
        text = json.dumps(export_records(qs), ensure_ascii=False, indent=1) + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            self.stdout.write(text, ending="")
