"""URL converters. `<id:pk>` is `<int:pk>` bounded to what a database id can be: a longer number
names nothing, so it is a 404 here rather than an overflow error in the database."""

from django.urls import register_converter
from django.urls.converters import IntConverter


class IdConverter(IntConverter):
    regex = "[0-9]{1,18}"


register_converter(IdConverter, "id")
