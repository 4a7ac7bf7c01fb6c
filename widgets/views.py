"""The embeddable widget: the loader script, the site's public settings, the chat panel page."""

from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from reference import surveys
from reference.models import AgeGroup
from reference.protocol import preferred_language
from reference.tokens import issue_patron_token
from widgets import privacy
from widgets.models import Site

LOADER_PATH = Path(__file__).parent / "static" / "widgets" / "loader.js"


@require_GET
def loader(request):
    """`<script src="…/widget.js" data-site="KEY" async>`: small, cached briefly, no cookies."""
    response = HttpResponse(LOADER_PATH.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def _use_requested_language(view):
    """The widget speaks `?lang=id|en` (the embed tag's data-lang, else the browser's language the
    loader read), else the browser's Accept-Language, else Indonesian."""

    def wrapped(request, *args, **kwargs):
        lang = preferred_language(request.GET.get("lang"), request.headers.get("Accept-Language", ""))
        with translation.override(lang):
            request.LANGUAGE_CODE = lang
            return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_GET
@_use_requested_language
def site_config(request, key):
    """What the loader needs before it draws the launcher, for allowed host pages only."""
    origin = request.headers.get("Origin", "")
    site = Site.objects.filter(key=key, is_active=True).first()
    if site is None:
        return _cors(JsonResponse({"error": "unknown_site", "message": _("No such widget site.")}, status=404), origin)
    if origin and not site.allows_origin(origin) and origin != _own_origin(request):
        return JsonResponse({"error": "origin_not_allowed",
                             "message": _("This page is not allowed to embed the widget.")}, status=403)
    response = JsonResponse({
        "name": site.name,
        "chat_url": request.build_absolute_uri(reverse("widgets:chat", args=[site.key])),
        "launcher_label": _("Ask a librarian"),
        "close_label": _("Close chat"),
        "title": _("Chat with a librarian"),
        "unread_one": _("1 new message"),
        "unread_many": _("{n} new messages"),
        "invite_after": site.invite_after,
        "invite_text": _("Need help? Ask a librarian"),
        "dismiss_label": _("Dismiss"),
    })
    response["Vary"] = "Origin, Accept-Language"
    return _cors(response, origin)


@never_cache
@xframe_options_exempt
@require_GET
@_use_requested_language
def chat_panel(request, key):
    """The chat panel inside the iframe. Only the site's host pages may frame it."""
    site = get_object_or_404(Site.objects.select_related("library", "default_queue"), key=key, is_active=True)
    token = issue_patron_token(site.key)
    response = render(request, "widgets/chat.html", {
        "site": site,
        "token": token,
        "config": {
            "siteKey": site.key,
            "token": token,
            "socketPath": "/ws/patron/",
            "maxLength": 4000,
            "timeZone": settings.TIME_ZONE,
        },
        "queue_choices": list(site.queue_choices.filter(is_active=True).order_by("name")),
        "age_groups": AgeGroup.choices,
        "privacy": privacy.notice(site),
        "parent_notice": privacy.parent_notice(site) if site.age_group_field != "hidden" else "",
        "attachment_max_bytes": settings.ATTACHMENT_MAX_BYTES,
        "survey_questions": surveys.site_questions(site.pk, request.LANGUAGE_CODE),
        "survey_text_max": surveys.TEXT_MAX_LENGTH,
    })
    ancestors = " ".join(["'self'", *site.origins])
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


@require_GET
def demo(request):
    """A library page that embeds the widget, for trying it out on the embedded default."""
    site = Site.objects.filter(is_active=True).order_by("pk").first()
    if site is None:
        raise Http404(_("No widget site yet: run `make demo-data` or add one in the admin."))
    return render(request, "widgets/demo.html", {"site": site})


def _own_origin(request):
    return f"{request.scheme}://{request.get_host()}"


def _cors(response, origin):
    if origin:
        response["Access-Control-Allow-Origin"] = origin
    return response
