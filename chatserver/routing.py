from channels.auth import AuthMiddlewareStack
from django.urls import path

from reference.consumers import LibrarianConsumer, PatronConsumer
from reference.consumers.staff_page import StaffPageConsumer

websocket_urlpatterns = [
    # A patron proves who they are with a token in `hello`; their socket needs no cookies, session or
    # user, and is spared Channels' session check on every frame it sends.
    path("ws/patron/", PatronConsumer.as_asgi()),
    path("ws/librarian/", AuthMiddlewareStack(LibrarianConsumer.as_asgi())),
    # Every other staff page (transcripts, FAQ, admin…): keeps the librarian on duty (docs/staying-on-duty.md).
    path("ws/staff/", AuthMiddlewareStack(StaffPageConsumer.as_asgi())),
]
