"""Which pages may open our WebSockets: only our own origin, scheme and port included.

Channels' AllowedHostsOriginValidator compares only the Origin's host with ALLOWED_HOSTS, so a page
on `http://host:1` (another service on the same machine, which gets the session cookie too: cookies
ignore ports) could open a librarian's socket. Here the Origin must be the origin the socket itself
was reached at: the Host header's name (one of ALLOWED_HOSTS) and port, with the scheme of the
socket (ws → http, wss → https), or https only with HTTPS=1 (TLS ends at the proxy, which talks ws
to daphne). Origins in settings.WEBSOCKET_ALLOWED_ORIGINS are accepted as well. Anything else is
closed before the handshake is accepted (the browser sees the connection fail; daphne answers 403),
as Channels' validator did.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope, name):
    for key, value in scope.get("headers", []):
        if key.lower() == name.encode():
            return value.decode("latin-1")
    return None


def _allowed_hosts():
    hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not hosts:  # as Django's own host check
        return [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def origin_allowed(scope):
    origin = _header(scope, "origin")
    if not origin:
        return False
    if origin in settings.WEBSOCKET_ALLOWED_ORIGINS:
        return True
    try:
        parts = urlsplit(origin)
        origin_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    if parts.path or parts.query or parts.username or parts.hostname is None:
        return False  # an Origin is scheme://host[:port] and nothing else
    schemes = {"https"} if settings.HTTPS else {"https" if scope.get("scheme") == "wss" else "http"}
    if parts.scheme not in schemes:
        return False
    host = _header(scope, "host")
    if host is None:  # no browser leaves it out; the in-process test client does
        domain, port = parts.hostname, ""
    else:
        domain, port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return False
    if not port.isdigit() and port:
        return False
    return parts.hostname == domain.strip("[]") and origin_port == (int(port) if port else DEFAULT_PORTS[parts.scheme])


class SameOriginValidator:
    """ASGI middleware for the websocket router: refuses every Origin but our own (origin_allowed)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
