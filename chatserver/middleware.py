"""HTTP middleware of our own: the Content-Security-Policy, no-store on staff pages, and refusing
input that is not text.

The CSP is a small middleware rather than django-csp: every page's scripts and styles are static
files, so no nonces or per-view decorators are needed, only one policy from settings and one
per-view change (the widget's chat panel names the pages that may frame it). Django 6.0 ships a
CSP middleware of its own with the same shape of settings; this one goes when we move to it.
"""

import json
import re

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.decorators import sync_and_async_middleware
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
        except DisallowedHost:  # answered 400 by Django: no socket address to name
            host = ""
        if host:
            policy["connect-src"].append(f"{'wss' if request.is_secure() else 'ws'}://{host}")
    policy.update(own_policy)
    return "; ".join(" ".join([name, *values]) for name, values in policy.items())


def _middleware(on_response=None, on_request=None):
    """Middleware that runs in the mode of the chain around it (sync under WSGI and the test client,
    async under daphne), so it adds no thread hop of its own. `on_request(request)` may answer
    instead of the view; `on_response(request, response)` changes the answer. In async mode their
    `.asynchronous` coroutine functions run instead (awaiting the database or a thread if needed)."""

    def make(get_response):
        if iscoroutinefunction(get_response):
            async def middleware(request):
                if on_request is not None:
                    refused = await on_request.asynchronous(request)
                    if refused is not None:
                        return refused
                response = await get_response(request)
                if on_response is not None:
                    await on_response.asynchronous(request, response)
                return response
        else:
            def middleware(request):
                if on_request is not None:
                    refused = on_request(request)
                    if refused is not None:
                        return refused
                response = get_response(request)
                if on_response is not None:
                    on_response(request, response)
                return response
        return middleware

    return sync_and_async_middleware(make)


def _add_policy(request, response):
    if settings.DEBUG and response.status_code >= 400:
        return  # Django's debug pages have inline styles and scripts (a developer's only)
    response[CSP_HEADER] = content_security_policy(request, response.get(CSP_HEADER, ""))


async def _add_policy_async(request, response):
    _add_policy(request, response)  # no database, no files: on the event loop


_add_policy.asynchronous = _add_policy_async
content_security_policy_middleware = _middleware(on_response=_add_policy)


def _no_store(request, response, authenticated):
    if authenticated or request.path.startswith(tuple(settings.NO_STORE_PATHS)):
        patch_cache_control(response, no_store=True, private=True)
        response.headers.pop("Expires", None)


def _staff_no_store(request, response):
    user = getattr(request, "user", None)
    _no_store(request, response, user is not None and user.is_authenticated)


async def _staff_no_store_async(request, response):
    authenticated = False
    if not request.path.startswith(tuple(settings.NO_STORE_PATHS)) and hasattr(request, "auser"):
        authenticated = (await request.auser()).is_authenticated
    _no_store(request, response, authenticated)


_staff_no_store.asynchronous = _staff_no_store_async
# Responses under settings.NO_STORE_PATHS (staff pages, the admin, exports, attachment downloads) and
# every response to a logged-in user may hold patron data: no browser or proxy keeps a copy
# (`Cache-Control: no-store, private`).
staff_no_store_middleware = _middleware(on_response=_staff_no_store)


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


def _refuse_control_characters(request):
    if any(NOT_TEXT.search(text) for text in request_texts(request)):
        return refused_input(request)
    return None


async def _refuse_control_characters_async(request):
    if request.method in ("GET", "HEAD"):  # the path and the query only: on the event loop
        if any(NOT_TEXT.search(text) for text in request_texts(request)):
            return await sync_to_async(refused_input, thread_sensitive=False)(request)
        return None
    # A body is parsed from its temporary file (an upload may be megabytes): off the event loop.
    return await sync_to_async(_refuse_control_characters, thread_sensitive=False)(request)


_refuse_control_characters.asynchronous = _refuse_control_characters_async
# A NUL or another control character in any field, query or path is answered 400 with a readable
# message (JSON for JSON requests), before a view hands it to the database.
refuse_control_characters_middleware = _middleware(on_request=_refuse_control_characters)


def refused_input(request):
    message = _("Your request contains characters that are not text (such as a NUL character). "
                "Remove them and try again.")
    if (request.content_type or "") in JSON_TYPES or request.path.startswith("/api/") \
            or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": "bad_characters", "message": message}, status=400)
    return HttpResponseBadRequest(render_to_string("bad_input.html", {"message": message}, request=request))
