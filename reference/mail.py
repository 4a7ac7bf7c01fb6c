"""Email to patrons: plain text and HTML from one pair of templates, in the patron's language and
with times in the library's time zone."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation


def compose_for_patron(*, patron, template, subject, context, to=None):
    """Render `<template>.txt` and `<template>.html`; `subject()` is called in the patron's
    language too, so it is translated like the body. Returns the message, not sent yet."""
    with translation.override(patron.language or settings.LANGUAGE_CODE), timezone.override(settings.TIME_ZONE):
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
        title = str(subject())
    email = EmailMultiAlternatives(title, text, to=[to or patron.email])
    email.attach_alternative(html, "text/html")
    return email


def send_to_patron(**kwargs):
    compose_for_patron(**kwargs).send()
