"""Abuse limits: how often one patron, one client address or one staff account may do a thing.

Counted with the `limits` library (sliding window counters): in Redis when REDIS_URL is set, so
every daphne process counts together, in this process otherwise. Each limit is a setting
`RT_LIMIT_<NAME>` in the library's notation ("60/10 seconds; 300/10 minutes"; empty: no limit),
read when it is used; docs/limits.md gives the defaults and why.

A limit that is reached raises ServiceError("rate_limited", retry_after=<whole seconds>). When the
counters cannot be reached (Redis down), the limits FAIL OPEN: a warning is logged and the request
goes through, and for OUTAGE_PAUSE seconds nothing is counted, so an outage costs one short timeout
now and then, never a refused or dropped patron.

Client addresses are never kept in clear: `address_key()` is a keyed hash (from SECRET_KEY), and
that is what the counters and reference.models.PatronBlock hold.
"""

import asyncio
import functools
import ipaddress
import logging
import math
import threading
import time
import weakref

from django.conf import settings
from django.utils.crypto import salted_hmac
from limits import parse_many
from limits.aio.strategies import SlidingWindowCounterRateLimiter as AsyncLimiter
from limits.strategies import SlidingWindowCounterRateLimiter

from reference.errors import ServiceError

logger = logging.getLogger(__name__)

# Short, so an unreachable Redis slows one request by a fraction of a second, not seconds.
SOCKET_TIMEOUT = 0.25
# After a storage error the limits stand aside this long before trying the storage again.
OUTAGE_PAUSE = 5.0
# How long a patron's address key is remembered (for a librarian's block) after their last hello.
REMEMBER_ADDRESS_FOR = 24 * 3600

# The limits, by name; each is the setting RT_LIMIT_<NAME upper-cased>.
MESSAGES_PER_PATRON = "messages_per_patron"
MESSAGES_PER_ADDRESS = "messages_per_address"
TYPING_PER_PATRON = "typing_per_patron"
CHATS_PER_PATRON = "chats_per_patron"
CHATS_PER_ADDRESS = "chats_per_address"
UPLOADS_PER_PATRON = "uploads_per_patron"
UPLOADS_PER_ADDRESS = "uploads_per_address"
UPLOAD_BYTES_PER_PATRON = "upload_bytes_per_patron"
UPLOAD_BYTES_PER_ADDRESS = "upload_bytes_per_address"
TRANSCRIPTS_PER_ADDRESS = "transcripts_per_address"
TRANSCRIPTS_PER_RECIPIENT = "transcripts_per_recipient"
FAQ_SEARCHES_PER_ADDRESS = "faq_searches_per_address"
FAQ_SEARCHES_PER_STAFF = "faq_searches_per_staff"
MESSAGES_PER_STAFF = "messages_per_staff"


@functools.lru_cache(maxsize=64)
def _items(text):
    return tuple(parse_many(text)) if text and text.strip() else ()


def items(name):
    """The rate limit items of limit `name`, from its setting (none when the setting is empty)."""
    return _items(getattr(settings, "RT_LIMIT_" + name.upper(), ""))


# ---- client addresses

@functools.lru_cache(maxsize=8)
def _networks(trusted):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def _ip(text):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(ip):
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(peer, forwarded_for=""):
    """The patron's address: the direct peer's, unless the peer is one of TRUSTED_PROXIES; then the
    rightmost X-Forwarded-For address that is not a trusted proxy (what a client writes to the
    left of its own proxy's entry is not believed). None when there is no peer address."""
    peer_ip = _ip(peer) if peer else None
    if peer_ip is None:
        return peer or None
    if not forwarded_for or not _trusted(peer_ip):
        return str(peer_ip)
    hops = [hop for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:  # garbage where a proxy of ours would have written an address
            return str(peer_ip)
        if not _trusted(ip):
            return str(ip)
    first = _ip(hops[0]) if hops else None
    return str(first or peer_ip)


def scope_address(scope):
    """client_address() of an ASGI scope (a WebSocket's)."""
    client = scope.get("client") or (None, None)
    forwarded = b",".join(value for name, value in scope.get("headers", []) if name == b"x-forwarded-for")
    return client_address(client[0], forwarded.decode("latin-1"))


def request_address(request):
    """client_address() of a Django request."""
    return client_address(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def address_key(address):
    """A keyed hash of a client address (hex, 64 characters), or "" for none. An IPv6 client is
    given a whole /64 network, so it counts as one address however many it uses."""
    if not address:
        return ""
    ip = _ip(address)
    if ip is not None and ip.version == 6:
        mapped = ip.ipv4_mapped
        address = str(mapped) if mapped else str(ipaddress.ip_network(f"{ip}/64", strict=False))
    elif ip is not None:
        address = str(ip)
    return salted_hmac("reference.limits.address", address, algorithm="sha256").hexdigest()


def recipient_key(email):
    """A keyed hash of an e-mail address, for counting what is sent to it."""
    return salted_hmac("reference.limits.recipient", email.strip().lower(), algorithm="sha256").hexdigest()


# ---- the counters' storage

_lock = threading.Lock()
_state = {"sync": None, "outage_until": 0.0}
_async_storages = weakref.WeakKeyDictionary()  # event loop -> (limiter, storage)
_remembered = {}  # in process: patron id -> (address key, expires at)


def _redis_uri():
    """REDIS_URL as the `limits` library writes it; with Sentinel (chatserver.env.redis_from_url's
    `sentinel://…/master_name[/db]`), its own `redis+sentinel://…/master_name`, the db an option."""
    url = settings.REDIS_URL
    if url.startswith("sentinel://"):
        netloc, _slash, path = url.removeprefix("sentinel://").partition("/")
        master_name, _slash, db = path.strip("/").partition("/")
        return f"redis+sentinel://{netloc}/{master_name}", {"db": int(db or 0)}
    return url, {}


def _options(extra):
    return {"socket_timeout": SOCKET_TIMEOUT, "socket_connect_timeout": SOCKET_TIMEOUT, **extra}


def _sync():
    """(limiter, storage) for code off the event loop (HTTP views, the database threads)."""
    with _lock:
        if _state["sync"] is None:
            from limits.storage import MemoryStorage, storage_from_string

            storage = None
            if settings.REDIS_URL:
                uri, extra = _redis_uri()
                try:
                    storage = storage_from_string(uri, key_prefix=settings.LIMITS_PREFIX,
                                                  wrap_exceptions=True, **_options(extra))
                except Exception:
                    logger.warning("limits: cannot use Redis at REDIS_URL; counting in this process", exc_info=True)
            storage = storage or MemoryStorage()
            _state["sync"] = (SlidingWindowCounterRateLimiter(storage), storage)
        return _state["sync"]


def _async():
    """(limiter, storage) for the running event loop: Redis' asyncio client (redis-py) is bound to
    the loop it was made on. None in process: the memory counters need no waiting."""
    if not settings.REDIS_URL:
        return None
    loop = asyncio.get_running_loop()
    found = _async_storages.get(loop)
    if found is None:
        from limits.storage import storage_from_string  # async+… schemes make the asyncio storages

        uri, extra = _redis_uri()
        try:
            storage = storage_from_string("async+" + uri, implementation="redispy",
                                          key_prefix=settings.LIMITS_PREFIX, wrap_exceptions=True, **_options(extra))
        except Exception:
            logger.warning("limits: cannot use Redis at REDIS_URL; counting in this process", exc_info=True)
            found = _async_storages[loop] = (None, None)  # said once; hit() counts with _sync()
            return None
        found = _async_storages[loop] = (AsyncLimiter(storage), storage)
    return found if found[0] is not None else None


def _in_outage():
    return time.monotonic() < _state["outage_until"]


def _outage(error):
    """The storage failed: let everything through for a while, and say so once."""
    if not _in_outage():
        logger.warning("limits: the counters cannot be reached (%s); letting requests through for %ss",
                       error, OUTAGE_PAUSE)
    _state["outage_until"] = time.monotonic() + OUTAGE_PAUSE


def reset():
    """Forget every count and remembered address, and the storages (tests; a new LIMITS_PREFIX)."""
    with _lock:
        sync = _state["sync"]
        if sync is not None and not hasattr(sync[1], "get_connection"):  # in process
            sync[1].reset()
        _state["sync"] = None
        _state["outage_until"] = 0.0
        _remembered.clear()
    _async_storages.clear()


# ---- counting

def _retry_after(reset_time):
    return max(1, math.ceil(reset_time - time.time()))


def _pairs(pairs):
    """(limit name, key) pairs that apply: a limit with no setting or no key (say, no address) does not."""
    for name, key in pairs:
        if key in (None, ""):
            continue
        for item in items(name):
            yield name, item, str(key)


def _refused(retry_after):
    return ServiceError("rate_limited", retry_after=retry_after)


def hit(*pairs, cost=1):
    """Count one (or `cost`) of each (limit name, key) pair; 0 when all allow it, else the whole
    seconds to wait before one would. Fails open."""
    if _in_outage() or not settings.RT_LIMITS:
        return 0
    try:
        limiter, _storage = _sync()
        for _name, item, key in _pairs(pairs):
            if cost > item.amount:  # more than the whole allowance: wait a window, then ask less
                return math.ceil(item.get_expiry())
            if not limiter.hit(item, key, cost=cost):
                return _retry_after(limiter.get_window_stats(item, key).reset_time)
    except Exception as error:  # Redis unreachable, timing out, failing over
        _outage(error)
    return 0


async def ahit(*pairs, cost=1):
    """hit() for the event loop."""
    if not settings.RT_LIMITS:
        return 0
    found = _async()
    if found is None:
        return hit(*pairs, cost=cost)
    if _in_outage():
        return 0
    limiter, _storage = found
    try:
        for _name, item, key in _pairs(pairs):
            if cost > item.amount:
                return math.ceil(item.get_expiry())
            if not await limiter.hit(item, key, cost=cost):
                return _retry_after((await limiter.get_window_stats(item, key)).reset_time)
    except Exception as error:
        _outage(error)
    return 0


def check(*pairs, cost=1):
    """hit(), raising ServiceError("rate_limited", retry_after=…) when a limit is reached."""
    retry_after = hit(*pairs, cost=cost)
    if retry_after:
        raise _refused(retry_after)


async def acheck(*pairs, cost=1):
    """check() for the event loop."""
    retry_after = await ahit(*pairs, cost=cost)
    if retry_after:
        raise _refused(retry_after)


# ---- which address a patron chats from (for a librarian's block; reference.blocking)

def _address_name(patron_id):
    return f"{settings.LIMITS_PREFIX}:address:{patron_id}"


async def remember_address(patron_id, key):
    """Remember the address key a patron's socket came from, for REMEMBER_ADDRESS_FOR seconds."""
    if not key:
        return
    found = _async()
    if found is None:
        _remember_here(patron_id, key)
        return
    if _in_outage():
        return
    try:
        await found[1].bridge.get_connection().set(_address_name(patron_id), key, ex=REMEMBER_ADDRESS_FOR)
    except Exception as error:
        _outage(error)


def _remember_here(patron_id, key):
    now = time.monotonic()
    with _lock:
        if len(_remembered) > 10000:  # drop the expired now and then
            for gone in [p for p, (_k, until) in _remembered.items() if until < now]:
                del _remembered[gone]
        _remembered[str(patron_id)] = (key, now + REMEMBER_ADDRESS_FOR)


def remembered_address(patron_id):
    """The address key remember_address() kept for the patron, or "" (forgotten, or Redis down)."""
    _limiter, storage = _sync()
    if not hasattr(storage, "get_connection"):  # in process
        with _lock:
            key, until = _remembered.get(str(patron_id), ("", 0))
        return key if until > time.monotonic() else ""
    if _in_outage():
        return ""
    try:
        value = storage.get_connection().get(_address_name(patron_id))
    except Exception as error:
        _outage(error)
        return ""
    return value.decode() if isinstance(value, bytes) else (value or "")
