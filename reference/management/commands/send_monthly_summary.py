import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from reference.reports.summary import do_send_monthly_summaries


class Command(BaseCommand):
    help = ("E-mail last month's figures to the staff who asked for the monthly summary. Run it early on "
            "the 1st (cron: 0 7 1 * *); running it again sends nothing twice.")

    def add_arguments(self, parser):
        parser.add_argument("--month", help="The month to send, as YYYY-MM (default: last month).")
        parser.add_argument("--force", action="store_true", help="Send even to those who already had it.")

    def handle(self, *args, month=None, force=False, **options):
        first_day = None
        if month:
            try:
                first_day = dt.datetime.strptime(month, "%Y-%m").date()
            except ValueError:
                raise CommandError(f"--month must look like 2026-11, not {month!r}") from None
        sent = do_send_monthly_summaries(first_day=first_day, force=force)
        self.stdout.write(f"Sent {sent} monthly summar{'y' if sent == 1 else 'ies'}.")
