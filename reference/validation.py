"""Checks on what people type, shared by every service that stores it."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from reference.errors import ServiceError

NAME_MAX_LENGTH = 100
# The longest address an EmailField column holds (RFC 5321's path limit less its brackets). Django's
# validator lets a longer one through (a 64-character local part and a 255-character domain).
EMAIL_MAX_LENGTH = 254


def clean_text(text, *, allow_empty=False):
    if allow_empty and text is None:
        return ""
    if not isinstance(text, str):
        raise ServiceError("invalid_frame", field="text")
    if has_bad_text(text):
        raise ServiceError("invalid_text", field="text")
    text = text.strip()
    if not text and not allow_empty:
        raise ServiceError("empty_message")
    if len(text) > settings.MESSAGE_MAX_LENGTH:
        raise ServiceError("message_too_long", limit=settings.MESSAGE_MAX_LENGTH)
    return text


def clean_name(name):
    if has_bad_text(name or ""):
        raise ServiceError("invalid_text", field="name")
    name = " ".join((name or "").split())
    if len(name) > NAME_MAX_LENGTH:
        raise ServiceError("name_too_long")
    return name


def clean_email(email):
    email = (email or "").strip()
    if has_bad_text(email) or len(email) > EMAIL_MAX_LENGTH:
        raise ServiceError("invalid_email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ServiceError("invalid_email") from None
    return email


def clean_client_id(client_id):
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
        raise ServiceError("invalid_frame", field="client_id")
    return client_id


def has_bad_text(value):
    """NUL (PostgreSQL refuses it) or a lone surrogate (not text: it cannot be stored or sent as UTF-8)."""
    if "\x00" in value:
        return True
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
