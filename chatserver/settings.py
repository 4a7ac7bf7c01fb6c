"""Settings for Ruang Tanya.

With no environment at all this is the embedded default: SQLite (WAL) and the in-process channel
layer. DATABASE_URL and REDIS_URL switch to PostgreSQL and channels-redis (see README.md).
"""

from datetime import timedelta
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from chatserver.env import database_from_url, env_bool, env_list, env_str, local_secret_key, redis_from_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("REQUIRE_SECRET_KEY", False):
        raise RuntimeError("SECRET_KEY must be set in production (REQUIRE_SECRET_KEY is on)")
    # Embedded default only: a key stable across restarts of one checkout, never shared.
    SECRET_KEY = local_secret_key(BASE_DIR / ".secret_key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "reference",
    "widgets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chatserver.middleware.content_security_policy_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "chatserver.middleware.refuse_control_characters_middleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "chatserver.middleware.staff_no_store_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lockout into the login page's message
]

ROOT_URLCONF = "chatserver.urls"
ASGI_APPLICATION = "chatserver.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
# Threads that run the sockets' database calls (reference.dbthreads). SQLite has one
# writer at a time, so one thread; PostgreSQL serves several at once (docs/deployment.md).
DATABASE_THREADS = int(env_str("DB_THREADS", "4" if DATABASE_URL else "1"))
# PostgreSQL connections per process (docs/deployment.md#connections): the long-lived database
# threads (Channels' one, DATABASE_THREADS, the long-read one) keep theirs DB_CONN_MAX_AGE seconds;
# an HTTP request's (a thread of its own under ASGI) closes at the request's end, and at most
# HTTP_REQUESTS_AT_ONCE requests run at once (chatserver.asgi). Budget per process:
# DATABASE_THREADS + 2 + HTTP_REQUESTS_AT_ONCE. DB_POOL_SIZE > 0 instead draws every connection from
# one psycopg pool of that size (a request waits up to DB_POOL_TIMEOUT s for one; measured worse).
DB_CONN_MAX_AGE = int(env_str("DB_CONN_MAX_AGE", "60"))
HTTP_REQUESTS_AT_ONCE = int(env_str("HTTP_REQUESTS_AT_ONCE", "8" if DATABASE_URL else "0"))
DB_POOL_SIZE = int(env_str("DB_POOL_SIZE", "0")) if DATABASE_URL else 0
DB_POOL_TIMEOUT = float(env_str("DB_POOL_TIMEOUT", "30"))
if DATABASE_URL:
    DATABASES = {
        "default": database_from_url(DATABASE_URL, pool={
            "min_size": 1, "max_size": DB_POOL_SIZE, "timeout": DB_POOL_TIMEOUT,
        } if DB_POOL_SIZE > 0 else None)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock
                # at BEGIN so two writers queue on the busy timeout instead of failing midway.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Keep connections: opening one per database call (and checkpointing the WAL on
            # each close) costs more than the call (docs/performance.md).
            "CONN_MAX_AGE": None,
            # A file, not shared-cache memory: threads then lock like in production.
            "TEST": {"NAME": str(BASE_DIR / ".test-db.sqlite3")},
        }
    }
# The server process checkpoints SQLite's write-ahead log on a thread of its own this often (seconds;
# 0: inside commits, as SQLite does by default). chatserver/sqlite_wal.py says why.
SQLITE_CHECKPOINT_EVERY = float(env_str("SQLITE_CHECKPOINT_EVERY", "1"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CHANNEL_LAYER_PREFIX = env_str("CHANNEL_LAYER_PREFIX", "rt:layer")
if REDIS_URL:
    # Pub/sub: a group message is one PUBLISH that each process hands to its own sockets; nothing
    # queues in Redis, so no capacity to overflow. It may drop a frame while a process reconnects,
    # which the database and the clients' resume repair (docs/architecture.md, docs/performance.md).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [redis_from_url(REDIS_URL)], "prefix": CHANNEL_LAYER_PREFIX},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chatserver.channel_layers.ThrottledInMemoryChannelLayer",
            "CONFIG": {"capacity": 1000, "expiry": 60},
        }
    }

# --- Auth, sessions, security ----------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reference:dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"  # the widget's chat page opts out with its own frame-ancestors policy
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Plain http:// is redirected to https:// (behind a proxy: a request without X-Forwarded-Proto:
    # https), and browsers are told to use https only, for a year (docs/deployment.md).
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env_str("HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
# Origins besides the service's own that may open its WebSockets (chatserver.websocket_origin): full
# origins, "https://chat.example.org". Rarely needed: the widget's sockets come from our own iframe.
WEBSOCKET_ALLOWED_ORIGINS = env_list("WEBSOCKET_ALLOWED_ORIGINS", [])

# Content-Security-Policy on every response Django makes (chatserver.middleware): scripts and styles
# only from our own files, no plugins, not framed (the widget's chat panel names its sites' pages).
# connect-src gets the ws:// or wss:// address of the host the page was served from.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}
# Responses under these paths can hold patron data: never kept by browsers or proxies.
NO_STORE_PATHS = ["/dashboard/", "/staff/", "/admin/", "/attachments/", "/login/"]

# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one username from one
# client address within LOGIN_LOCKOUT_MINUTES, that pair is locked for LOGIN_LOCKOUT_MINUTES after
# the last failure; an administrator unlocks it sooner (admin → Axes → Access attempts).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env_str("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(env_str("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "reference.limits.request_address"  # the limits' rule for addresses behind proxies
AXES_LOCKOUT_CALLABLE = "reference.accounts.locked_out"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # failures only: no table of every login's address and browser
AXES_SENSITIVE_PARAMETERS = ["password"]

# --- Languages and time ----------------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Jakarta")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded attachments, stored through Django's default storage (FileSystemStorage here; any
# storage backend set in STORAGES["default"] works). There is deliberately no MEDIA_URL route:
# files are only served through expiring signed links (reference.attachments).
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "media"))

# --- Email (answers to offline questions, transcripts): the console by default, SMTP when EMAIL_HOST is set ---
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(env_str("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")  # for the filebased backend
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Ruang Tanya <tanya@localhost>")

# --- Ruang Tanya --------------------------------------------------------------------------------
# How long a patron's signed token is accepted (seconds). The widget fetches a fresh one after.
PATRON_TOKEN_MAX_AGE = int(env_str("PATRON_TOKEN_MAX_AGE", str(30 * 24 * 3600)))
MESSAGE_MAX_LENGTH = 4000
# Seconds between `heartbeat` frames on every socket (docs/protocol.md): clients that hear nothing
# for 2.5 intervals reconnect, and the heartbeat's last_seq lets them repair a lost fan-out.
HEARTBEAT_INTERVAL = float(env_str("RT_HEARTBEAT_INTERVAL", "20"))
# Presence: a librarian is connected while a staff page's socket has beaten within PRESENCE_TIMEOUT
# seconds; chats of one gone for REQUEUE_GRACE seconds more go back to their queue.
PRESENCE_TIMEOUT = float(env_str("RT_PRESENCE_TIMEOUT", "60"))
REQUEUE_GRACE = float(env_str("RT_REQUEUE_GRACE", "30"))
# Scaled out (REDIS_URL): each process's lease lasts this long and is renewed every third of it; a
# killed process's librarians are offline for colleagues within about 4/3 of it (reference.leases).
PRESENCE_LEASE = float(env_str("RT_PRESENCE_LEASE", "15"))
# A waiting patron whose widget has been gone this long (closed, or offline) has abandoned the chat.
ABANDON_GRACE = float(env_str("RT_ABANDON_GRACE", "120"))
# The most chats a librarian may choose to hold at once from the dashboard (admins may set more).
MAX_CHATS_CHOICE = int(env_str("RT_MAX_CHATS_CHOICE", "8"))
PRESENCE_PREFIX = env_str("PRESENCE_PREFIX", "rt:presence")
# Seconds a colleague has to accept a transfer before it returns to the sender.
TRANSFER_TIMEOUT = float(env_str("RT_TRANSFER_TIMEOUT", "60"))
# Attachments (images and PDF): the largest file accepted, and how long a download link works.
ATTACHMENT_MAX_BYTES = int(env_str("RT_ATTACHMENT_MAX_BYTES", str(5 * 1024 * 1024)))
ATTACHMENT_LINK_MAX_AGE = int(env_str("RT_ATTACHMENT_LINK_MAX_AGE", "600"))
# How many times a patron may have one conversation's transcript emailed.
TRANSCRIPT_EMAILS_PER_CONVERSATION = int(env_str("RT_TRANSCRIPT_EMAILS", "3"))
# The service's address as patrons reach it, for links in e-mails (the survey link in offline answers).
PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000")
# The most conversations one transcript export holds (docs/exports.md): two years of a busy library.
REPORT_EXPORT_MAX_CONVERSATIONS = int(env_str("REPORT_EXPORT_MAX_CONVERSATIONS", "200000"))

# --- Abuse limits (reference.limits; docs/limits.md) -----------------------------------------------
# Each in the `limits` library's notation, several separated by ";" (empty: no such limit). Counted
# in Redis when REDIS_URL is set (keys under LIMITS_PREFIX), in this process otherwise.
LIMITS_PREFIX = env_str("LIMITS_PREFIX", "rt:limits")
# RT_LIMITS=0 turns every RT_LIMIT_* off (load benches: hundreds of patrons from one loopback address).
RT_LIMITS = env_bool("RT_LIMITS", True)
# Proxies (IPs or CIDR networks) whose X-Forwarded-For is believed; from anyone else it is ignored.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
RT_LIMIT_MESSAGES_PER_PATRON = env_str("RT_LIMIT_MESSAGES_PER_PATRON", "60/10 seconds; 300/10 minutes")
RT_LIMIT_MESSAGES_PER_ADDRESS = env_str("RT_LIMIT_MESSAGES_PER_ADDRESS", "150/10 seconds; 1500/10 minutes")
RT_LIMIT_TYPING_PER_PATRON = env_str("RT_LIMIT_TYPING_PER_PATRON", "15/10 seconds")
RT_LIMIT_CHATS_PER_PATRON = env_str("RT_LIMIT_CHATS_PER_PATRON", "10/minute; 60/hour")
RT_LIMIT_CHATS_PER_ADDRESS = env_str("RT_LIMIT_CHATS_PER_ADDRESS", "40/minute; 200/hour")
RT_LIMIT_UPLOADS_PER_PATRON = env_str("RT_LIMIT_UPLOADS_PER_PATRON", "5/minute; 30/hour")
RT_LIMIT_UPLOADS_PER_ADDRESS = env_str("RT_LIMIT_UPLOADS_PER_ADDRESS", "30/minute; 300/hour")
RT_LIMIT_UPLOAD_BYTES_PER_PATRON = env_str("RT_LIMIT_UPLOAD_BYTES_PER_PATRON", "26214400/hour")
RT_LIMIT_UPLOAD_BYTES_PER_ADDRESS = env_str("RT_LIMIT_UPLOAD_BYTES_PER_ADDRESS", "262144000/hour")
RT_LIMIT_TRANSCRIPTS_PER_ADDRESS = env_str("RT_LIMIT_TRANSCRIPTS_PER_ADDRESS", "10/hour; 30/day")
RT_LIMIT_TRANSCRIPTS_PER_RECIPIENT = env_str("RT_LIMIT_TRANSCRIPTS_PER_RECIPIENT", "5/hour; 10/day")
RT_LIMIT_FAQ_SEARCHES_PER_ADDRESS = env_str("RT_LIMIT_FAQ_SEARCHES_PER_ADDRESS", "60/10 seconds; 1000/hour")
RT_LIMIT_FAQ_SEARCHES_PER_STAFF = env_str("RT_LIMIT_FAQ_SEARCHES_PER_STAFF", "60/10 seconds")
RT_LIMIT_MESSAGES_PER_STAFF = env_str("RT_LIMIT_MESSAGES_PER_STAFF", "60/10 seconds; 1000/10 minutes")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"},
                "axes": {"level": "WARNING"}},  # lockouts only, not every login
}

# --- FAQ search (docs/search.md) -------------------------------------------------------------------
# Results scoring below the threshold are dropped: nothing rather than noise.
FAQ_SEARCH_THRESHOLD = float(env_str("FAQ_SEARCH_THRESHOLD", "0.1"))
FAQ_SEARCH_QUESTION_WEIGHT = 1.0
FAQ_SEARCH_ANSWER_WEIGHT = 0.7
FAQ_SEARCH_COVERAGE_WEIGHT = 0.3
FAQ_SEARCH_SYNONYM_WEIGHT = 0.5
FAQ_SEARCH_TRANSLATION_WEIGHT = 1.0  # a synonym in the other language is a translation: full weight
FAQ_SEARCH_TYPO_WEIGHT = 0.8
FAQ_SEARCH_CANDIDATES = 60
FAQ_SEARCH_CANDIDATE_MAX_DF = 0.01
FAQ_SEARCH_CANDIDATE_MAX_DF_FLOOR = 1000
FAQ_SEARCH_RELATIVE_CUT = 0.4
FAQ_SEARCH_UNKNOWN_WORD_WEIGHT = 0.5
# The semantic leg (reference/faq/search/semantic.py): entries and queries as multilingual sentence
# vectors, fused with the lexical score. Off: the search is lexical only and the model never loads
# (a small machine saves ~140 MiB per process, 1 KiB per entry and ~5 ms per query).
FAQ_SEMANTIC = env_bool("FAQ_SEMANTIC", True)
# Fusion (service.fuse): a cosine from FAQ_SEMANTIC_FLOOR (unrelated) to FAQ_SEMANTIC_FULL (a close
# paraphrase) adds up to FAQ_SEMANTIC_WEIGHT of what the lexical score leaves.
FAQ_SEMANTIC_WEIGHT = 0.5
FAQ_SEMANTIC_FLOOR = 0.2
FAQ_SEMANTIC_FULL = 0.5
FAQ_SEMANTIC_CANDIDATES = 20
# A result is "confident" (shown as the answer, not only as related) when its lexical score reaches
# FAQ_SEARCH_CONFIDENT, or its cosine FAQ_SEARCH_CONFIDENT_COSINE (a near paraphrase), or both legs
# rank it first and its lexical score reaches FAQ_SEARCH_CONFIDENT_AGREED (service._confidence).
FAQ_SEARCH_CONFIDENT = 0.4
FAQ_SEARCH_CONFIDENT_COSINE = 0.6
FAQ_SEARCH_CONFIDENT_AGREED = 0.3
# Library card numbers, for redaction of FAQ drafts (a regular expression).
FAQ_CARD_NUMBER_PATTERN = env_str("FAQ_CARD_NUMBER_PATTERN", r"\b(?:TT|PKT)[- ]?\d{4}[- ]?\d{4,6}\b")
# Strings redaction never replaces in FAQ drafts, for every library (besides each library's own
# `public_contacts`): the service's public phone numbers, e-mail addresses and links.
FAQ_REDACTION_ALLOW = []
