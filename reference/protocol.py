"""Frame parsing and field checks for docs/protocol.md, in one place."""

import json

from django.conf import settings
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

from reference.errors import ServiceError
from reference.validation import has_bad_text

VERSION = 1
MAX_FRAME_BYTES = 64 * 1024
HELLO_TIMEOUT = 30  # seconds a new socket has to send `hello`
# The widest integer a database column holds (a 64-bit id): a larger number names nothing, and
# handing it to the database would fail there instead of here.
MAX_INT = 2**63 - 1
# How deeply a frame's objects and lists may nest: the deepest documented frame (`survey`) nests 3.
MAX_DEPTH = 8



def parse_frame(text_data):
    if text_data is None:
        raise ServiceError("bad_json")
    if len(text_data) > MAX_FRAME_BYTES:
        raise ServiceError("frame_too_large")
    try:
        frame = json.loads(text_data)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        raise ServiceError("bad_json") from None
    if not isinstance(frame, dict):
        raise ServiceError("bad_json")
    _check_values(frame, "type", 0)
    if not isinstance(frame.get("type"), str):
        raise ServiceError("unknown_type")
    return frame


def _check_values(value, name, depth):
    """Every string in the frame is text a database stores, and the frame nests at most MAX_DEPTH deep.
    `name`: the top-level field the value sits in, for the error."""
    if depth > MAX_DEPTH:
        raise ServiceError("frame_too_deep", limit=MAX_DEPTH)
    if isinstance(value, str):
        if has_bad_text(value):
            raise ServiceError("invalid_text", field=name)
    elif isinstance(value, dict):
        for key, item in value.items():
            key_name = key if depth == 0 else name
            if has_bad_text(key):
                raise ServiceError("invalid_text", field=name if depth else "?")
            _check_values(item, key_name, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_values(item, name, depth + 1)


def field(frame, name, kind, *, required=True, default=None):
    """The value of `name` in `frame`, checked to be of `kind` (bool is not an int here)."""
    if name not in frame or frame[name] is None:
        if required:
            raise ServiceError("invalid_frame", field=name)
        return default
    value = frame[name]
    if not isinstance(value, kind) or (kind is int and not is_int(value)):
        raise ServiceError("invalid_frame", field=name)
    return value


def is_int(value):
    """An integer a database column can hold (bool is not an int here)."""
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_INT - 1 <= value <= MAX_INT


def id_from_text(value, name):
    """An id sent as text or a number (a form field, a JSON body), or ServiceError("invalid_frame")."""
    if is_int(value) and value >= 0:
        return value
    # ASCII digits only ("²" is a digit to str.isdigit, and int() refuses it), and no more than a
    # 64-bit id has (int() refuses over 4,300 digits).
    text = value if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 19 and is_int(int(text))):
        raise ServiceError("invalid_frame", field=name)
    return int(text)


def id_list(frame, name, *, required=True):
    """`name`: a list of ids (integers a database column can hold), or ServiceError("invalid_frame")."""
    values = field(frame, name, list, required=required, default=[])
    if not all(is_int(value) for value in values):
        raise ServiceError("invalid_frame", field=name)
    return values


def check_version(frame):
    if frame.get("v") != VERSION:
        raise ServiceError("unsupported_version")


def choose_language(requested, headers):
    """`lang` from hello if we speak it, else the browser's Accept-Language, else the default."""
    accept = b", ".join(value for name, value in headers if name == b"accept-language")
    return preferred_language(requested, accept.decode("latin-1"))


def preferred_language(requested, accept_language):
    """`requested` if we speak it, else the first of an Accept-Language header we speak, else the default.

    Unlike Django's LocaleMiddleware this ignores the session and the language cookie: a patron's
    widget follows the embed tag and the browser, not what a librarian chose on the same service.
    """
    candidates = [requested] if isinstance(requested, str) and requested else []
    candidates += [code for code, _q in parse_accept_lang_header(accept_language or "")]
    for code in candidates:
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
