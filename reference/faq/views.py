"""FAQ pages, the JSON search API and the staff curation pages. Thin: parse, call, render.

Each library has its own FAQ: the public pages and the API find theirs through
reference.faq.libraries, the staff pages work in the current library (reference.tenancy)."""

import json

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reference import limits, tenancy
from reference import selectors as reference_selectors
from reference.errors import ServiceError
from reference.faq import curation, editor, history, libraries, selectors, services
from reference.faq.models import FaqEntry
from reference.faq.search import search
from reference.models import Conversation
from reference.tokens import read_patron_token
from reference.views import limited_response, staff_member_required

MAX_QUERY_LENGTH = 1000
MAX_LIMIT = 20


def _language():
    lang = (get_language() or "id")[:2]
    return lang if lang in ("id", "en") else "id"


# --- public pages: one language at a time (reference.faq.selectors) -------------------------------
# Each page is at /faq/… (the first library, or the library whose own host the request came to) and
# at /l/<library_slug>/faq/… (every library): `faq` in the context is the library's PublicFaq.
@require_GET
def faq_index(request, library_slug=None):
    faq = libraries.public_faq(request, library_slug)
    lang = _language()
    listed = selectors.listed_entries(lang, faq.library)
    return render(request, "faq/index.html", {
        "faq": faq, "lang": lang,
        "topics": selectors.topics_with_entries(listed, lang),
        "most_viewed": selectors.most_viewed(listed, 8),
    })


@require_GET
def faq_topic(request, slug, library_slug=None):
    faq = libraries.public_faq(request, library_slug)
    lang = _language()
    found = selectors.topic_page(slug, lang, faq.library)
    if found is None:
        raise Http404("No such FAQ topic.")
    topic, entries = found
    return render(request, "faq/topic.html", {"faq": faq, "lang": lang, "topic": topic, "entries": entries})


@require_http_methods(["GET", "POST"])
def faq_detail(request, slug, library_slug=None):
    faq = libraries.public_faq(request, library_slug)
    entry = get_object_or_404(selectors.published(faq.library), slug=slug)
    if request.method == "POST":
        voted = request.POST.get("helpful") == "yes"
        services.record_vote(entry, voted)
        messages.success(request, _("Thank you for your feedback."))
        return redirect(faq.detail_url(slug))
    services.record_view(entry)
    entry.refresh_from_db(fields=["view_count", "helpful_yes", "helpful_no"])
    lang = _language()
    return render(request, "faq/detail.html", {
        "faq": faq, "lang": lang, "entry": entry, "translations": selectors.translations_of(entry),
        "topics": selectors.entry_topics(entry, lang),
    })


def _search_and_count_misses(q, *, lang, limit, library, site=None, count_miss=True):
    """search() reads only; a patron's search that found nothing goes on the library's staff list here."""
    response = search(q, lang=lang, limit=limit, library=library)
    if count_miss:
        services.record_search(found=bool(response.results), site_id=site.pk if site is not None else None)
        if not response.results:
            services.record_miss(q, language=lang, words=response.words, library=library)
    return response


def _check_search_limit(request):
    """ServiceError("rate_limited") when this address (or staff account) has searched too much."""
    user = request.user
    if user.is_authenticated and user.is_staff:  # the dashboard's suggestions: per librarian, not per address
        limits.check((limits.FAQ_SEARCHES_PER_STAFF, user.pk))
    else:
        limits.check((limits.FAQ_SEARCHES_PER_ADDRESS, limits.address_key(limits.request_address(request))))


@require_GET
def faq_search_page(request, library_slug=None):
    faq = libraries.public_faq(request, library_slug)
    q = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    if q:
        try:
            _check_search_limit(request)
        except ServiceError as refused:
            response = render(request, "faq/search.html", {"faq": faq, "q": q, "refused": refused.message},
                              status=429)
            response["Retry-After"] = str(refused.params["retry_after"])
            return response
    lang = _language()
    response = _search_and_count_misses(q, lang=lang, limit=10, library=faq.library) if q else None
    results = response.results if response else []
    return render(request, "faq/search.html", {
        "faq": faq, "q": q, "lang": lang, "searched": response is not None,
        "answers": [hit for hit in results if hit.confident],
        "related": [hit for hit in results if not hit.confident],
    })


# --- JSON API -------------------------------------------------------------------------------------
def _bad_request(message):
    return JsonResponse({"error": message}, status=400)


@require_GET
def api_search(request):
    q = request.GET.get("q", "")
    lang = request.GET.get("lang", "id")
    limit = request.GET.get("limit", "5")
    if not q.strip():
        return _bad_request(_("The parameter “q” is required."))
    if len(q) > MAX_QUERY_LENGTH:
        return _bad_request(_("The parameter “q” is longer than %(max)d characters.") % {"max": MAX_QUERY_LENGTH})
    if lang not in ("id", "en"):
        return _bad_request(_("The parameter “lang” must be “id” or “en”."))
    try:
        limit = int(limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        return _bad_request(_("The parameter “limit” must be a whole number from 1 to %(max)d.") % {"max": MAX_LIMIT})
    try:
        site, library = libraries.api_library(request)
    except libraries.Refused as refused:
        return JsonResponse({"error": refused.message}, status=refused.status)
    try:
        _check_search_limit(request)
    except ServiceError as refused:
        return limited_response(refused, {"error": refused.message, "code": refused.code,
                                          "retry_after": refused.params["retry_after"]})
    # The widget's and the dashboard's suggestions (log=0) are not patrons' searches to count.
    response = _search_and_count_misses(q, lang=lang, limit=limit, library=library, site=site,
                                        count_miss=request.GET.get("log", "1") != "0")
    home = libraries.home_path(library)
    return JsonResponse({"query": q, "results": [selectors.hit_payload(h, request, home) for h in response.results]})


@csrf_exempt  # a counter the widget (a cross-site iframe) calls; it changes nothing else
@require_POST
def api_answered(request, slug):
    """An entry of the widget's site's library (`site=<key>`), else of the first library."""
    try:
        site = libraries.site_library(request.GET["site"])[0] if "site" in request.GET else None
    except libraries.Refused as refused:
        return JsonResponse({"error": refused.message}, status=refused.status)
    library = site.library_id if site is not None else libraries.first_library_id()
    entry = selectors.published(library).filter(slug=slug).first()
    if entry is None:
        return JsonResponse({"error": _("No such FAQ entry.")}, status=404)
    services.record_answered_in_widget(entry, site_id=site.pk if site is not None else None)
    return JsonResponse({"ok": True})


@csrf_exempt  # authenticated by the patron's signed token, not a cookie
@require_POST
def api_opt_out(request):
    """"Don't use my question in the public FAQ" (or `opt_out: false` to allow it again) for the
    patron's open conversation, else their most recent one (a question left offline)."""
    try:
        body = json.loads(request.body or b"{}")
        identity = read_patron_token(body.get("token"))
    except (ValueError, AttributeError, ServiceError):
        return JsonResponse({"error": _("The chat token is missing or invalid.")}, status=400)
    opt_out = body.get("opt_out", True)
    if not isinstance(opt_out, bool):
        return JsonResponse({"error": _("“opt_out” must be true or false.")}, status=400)
    conversation = curation.do_opt_out(identity=identity, opt_out=opt_out)
    return JsonResponse({"marked": conversation is not None})


# --- staff ----------------------------------------------------------------------------------------
# The staff pages work in the current library (reference.tenancy.current_library): another
# library's entry or transcript is a 404.
@staff_member_required
def staff_misses(request):
    library = tenancy.current_library(request)
    return render(request, "faq/misses.html", {"library": library, "misses": selectors.search_misses(library)})


@staff_member_required
def staff_candidates(request):
    library = tenancy.current_library(request)
    return render(request, "faq/candidates.html", {
        "library": library, "candidates": curation.candidate_faqs(library=library, user=request.user)})


@staff_member_required
@require_POST
def staff_draft_from_transcript(request, pk):
    """A draft in the transcript's library, from a transcript the user may read
    (reference.selectors.visible_transcript) of a library they belong to: a chat covered for
    another library feeds that library's FAQ only through its own staff. The editor then opens
    in that library."""
    conversation = reference_selectors.visible_transcript(
        request.user, pk, Conversation.objects.select_related("patron", "site"))
    if conversation is None or not tenancy.belongs(request.user, conversation.site.library_id):
        raise Http404
    ids = [int(i) for i in request.POST.getlist("message") if i.isdigit()]
    if not ids:  # "one click from a draft" (candidates): the whole conversation
        ids = list(conversation.messages.values_list("pk", flat=True))
    try:
        entry = curation.create_draft_from_transcript(conversation=conversation, message_ids=ids, editor=request.user)
    except ServiceError as e:
        messages.error(request, e.message)
        return redirect("reference:transcript", pk=pk)
    if entry.library_id != tenancy.current_library_id(request):
        tenancy.choose_library(request, entry.library_id)
    return redirect("faq:staff_edit", pk=entry.pk)


@staff_member_required
@require_http_methods(["GET", "POST"])
def staff_edit(request, pk):
    entry = get_object_or_404(FaqEntry, pk=pk, library=tenancy.current_library(request))
    language, error, posted = _language(), None, None
    if request.method == "POST":
        try:
            entry = editor.save_from_form(entry, request.POST, editor=request.user, language=language)
            messages.success(request, _("Saved."))
            return redirect("faq:staff_edit", pk=entry.pk)
        except ServiceError as e:
            error, posted = e.message, request.POST
    form = editor.form_values(entry, posted)
    return render(request, "faq/edit.html", {
        "entry": entry, "error": error, "redactions": curation.redaction_count(entry),
        **curation.draft_review(entry), "form": form, "preview_html": editor.preview_html(form["answer"]),
        "topic_choices": editor.topic_choices(form["topics"], language),
        "history": history.revision_sentences(entry, language=language),
    })
