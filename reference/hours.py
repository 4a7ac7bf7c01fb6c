"""Opening hours of a queue, written the way a librarian would: one rule per line.

    mon-fri 08:00-16:00
    sat 08:00-12:00

Days are mon tue wed thu fri sat sun (a range or a comma list); times are in the library's time
zone (Library.time_zone, which callers pass as `tz`; else settings.TIME_ZONE, Asia/Jakarta by
default). An empty text means always open.
"""

import re
from datetime import time

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_RULE = re.compile(r"^\s*([a-z,\-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse(text):
    """[(weekday numbers, opens, closes)]; ValidationError naming the first bad line."""
    rules = []
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        match = _RULE.match(line.lower())
        try:
            if not match:
                raise ValueError
            days = _days(match.group(1))
            opens = time(int(match.group(2)), int(match.group(3)))
            closes = time(int(match.group(4)), int(match.group(5)))
            if closes <= opens:
                raise ValueError
        except ValueError:
            message = _("Line %(number)s is not like “mon-fri 08:00-16:00”.") % {"number": number}
            raise ValidationError(message) from None
        rules.append((days, opens, closes))
    return rules


def _days(spec):
    days = set()
    for part in spec.split(","):
        first, _dash, last = part.partition("-")
        start = DAYS.index(first)
        end = DAYS.index(last) if last else start
        if end < start:
            raise ValueError
        days.update(range(start, end + 1))
    return days


def is_open(text, at=None, tz=None):
    """Is `at` (now by default) within the hours? `tz`: the zone they are written in (default:
    settings.TIME_ZONE)."""
    rules = parse(text)
    if not rules:
        return True
    local = timezone.localtime(at, tz)
    return any(local.weekday() in days and opens <= local.time() < closes for days, opens, closes in rules)


def hours_on(text, at=None):
    """The day's opening times as sorted [(opens, closes)], [] when closed that day, or None when
    the text is empty (always open). The day is `at`'s (now by default) in the library's time zone."""
    rules = parse(text)
    if not rules:
        return None
    weekday = timezone.localtime(at).weekday()
    return sorted((opens, closes) for days, opens, closes in rules if weekday in days)
