"""Static files served by daphne itself (Django's ASGIStaticFilesHandler), with every path that
cannot name a static file answered 404.

Django's handler turns only Http404 into a response: a path that climbs out of the static folders
(`/static/..%2f..%2f.secret_key`) raises SuspiciousFileOperation, and a NUL in the path ValueError,
both of which daphne answered with a 500. Nothing is ever read from outside the static folders.
"""

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.exceptions import SuspiciousOperation
from django.http import Http404


class StaticFiles(ASGIStaticFilesHandler):
    def serve(self, request):
        try:
            return super().serve(request)
        except (SuspiciousOperation, ValueError, OSError) as refused:
            raise Http404("No such static file") from refused

