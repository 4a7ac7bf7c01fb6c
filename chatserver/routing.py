from django.urls import path

from reference.consumers import LibrarianConsumer, PatronConsumer

websocket_urlpatterns = [
    path("ws/patron/", PatronConsumer.as_asgi()),
    path("ws/librarian/", LibrarianConsumer.as_asgi()),
]
