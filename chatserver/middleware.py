"""HTTP middleware of our own: the Content-Security-Policy, no-store on staff pages, and refusing
input that is not text.

The CSP is a small middleware rather than django-csp: every page's scripts and styles are static
files, so no nonces or per-view decorators are needed, only one policy from settings and one
per-view change (the widget's chat panel names the pages that may frame it). Django 6.0 ships a
CSP middleware of its own with the same shape of settings; this one goes when we move to it.
"""

import json
import re

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

CSP_HEADER = "Content-Security-Policy"


def _parse_policy(header):
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def content_security_policy(request, own=""):
    """settings.CONTENT_SECURITY_POLICY as a header value for this request: connect-src also names
    the WebSocket address of the host the page came from (ws:// on http, wss:// on https).

    A policy the view set itself (`own`) with a default-src is complete and kept as it is (an
    attachment download's `default-src 'none'; sandbox`); one without changes only the directives
    it names (the chat panel's `frame-ancestors`)."""
    own_policy = _parse_policy(own)
    if "default-src" in own_policy:
        return own
    policy = {name: list(values) for name, values in settings.CONTENT_SECURITY_POLICY.items()}
    if "connect-src" in policy:
        try:
            host = request.get_host()
        except Exception:  # noqa: BLE001 - a host Django refuses gets no socket address
            host = ""
        if host:
            policy["connect-src"].append(f"{'wss' if request.is_secure() else 'ws'}://{host}")
    policy.update(own_policy)
    return "; ".join(" ".join([name, *values]) for name, values in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code >= 400:
            return response  # Django's debug pages have inline styles and scripts (a developer's only)
        response[CSP_HEADER] = content_security_policy(request, response.get(CSP_HEADER, ""))
        return response


class StaffNoStoreMiddleware:
    """Responses under settings.NO_STORE_PATHS (staff pages, the admin, exports, attachment
    downloads) and every response to a logged-in user may hold patron data: no browser or proxy
    keeps a copy (`Cache-Control: no-store, private`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith(tuple(settings.NO_STORE_PATHS)) or (user is not None and user.is_authenticated):
            patch_cache_control(response, no_store=True, private=True)
            response.headers.pop("Expires", None)
        return response


# C0 control characters other than tab, line feed and carriage return, and DEL: never text a person
# typed. PostgreSQL cannot store NUL in a text column at all.
NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
JSON_TYPES = ("application/json",)


def _json_strings(value, depth=0):
    if depth > 50:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item, depth + 1)


def request_texts(request):
    """Every text the request carries that a view may read: the path, the query string's names and
    values, a form's fields and file names, and the strings of a JSON body."""
    yield request.path
    for key, values in request.GET.lists():
        yield key
        yield from values
    if request.method == "POST":
        content_type = request.content_type or ""
        if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            try:
                request.POST  # noqa: B018 - parsed once here, kept for the view
            except (MultiPartParserError, OSError):
                return  # unreadable: the view (or CSRF) answers it as it always did
            for key, values in request.POST.lists():
                yield key
                yield from values
            for key, files in request.FILES.lists():
                yield key
                yield from (f.name or "" for f in files)
    if request.method in ("POST", "PUT", "PATCH") and (request.content_type or "") in JSON_TYPES:
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, RecursionError):
            return  # not JSON: the view refuses it as it always did
        yield from _json_strings(body)


class RefuseControlCharactersMiddleware:
    """A NUL or another control character in any field, query or path is answered 400 with a
    readable message (JSON for JSON requests), before a view hands it to the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any(NOT_TEXT.search(text) for text in request_texts(request)):
            return refused_input(request)
        return self.get_response(request)


def refused_input(request):
    message = _("Your request contains characters that are not text (such as a NUL character). "
                "Remove them and try again.")
    if (request.content_type or "") in JSON_TYPES or request.path.startswith("/api/") \
            or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": "bad_characters", "message": message}, status=400)
    return HttpResponseBadRequest(render_to_string("bad_input.html", {"message": message}, request=request))
