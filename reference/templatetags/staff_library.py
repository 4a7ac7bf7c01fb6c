"""The staff bar's library (templates/base.html): `{% staff_library as here %}` gives
{"current": the library the staff pages work in, "choices": the person's libraries} or None for
someone who belongs to none (reference.tenancy, reference.views.choose_library)."""

from django import template
from django.core.exceptions import PermissionDenied

from reference import tenancy

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_library(context):
    request = context.get("request")
    if request is None or not (request.user.is_authenticated and request.user.is_staff):
        return None
    try:
        current = tenancy.current_library(request)
    except PermissionDenied:
        return None
    return {"current": current, "choices": tenancy.libraries_of(request.user)}
