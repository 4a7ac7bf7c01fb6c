"""The client's address for login lockout (django-axes' AXES_CLIENT_IP_CALLABLE).

REMOTE_ADDR, unless it is one of settings.TRUSTED_PROXIES (addresses or networks; none by default):
then the rightmost address in X-Forwarded-For that is not itself a trusted proxy, since everything
left of the proxies' own entries may have been written by the client. A forged header from anyone
else is ignored. (reference.limits.client_address applies the same rule to the abuse limits.)
"""

import ipaddress

from django.conf import settings


def _networks():
    networks = []
    for entry in getattr(settings, "TRUSTED_PROXIES", None) or []:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue
    return networks


def _address(text):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(request):
    remote = request.META.get("REMOTE_ADDR", "") or ""
    networks = _networks()

    def trusted(address):
        return address is not None and any(address in network for network in networks)

    if not networks or not trusted(_address(remote)):
        return remote
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(hop)
        if address is None:
            return remote  # garbage in the chain: believe only the proxy we saw
        if not trusted(address):
            return str(address)
    return remote
