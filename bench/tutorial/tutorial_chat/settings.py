"""Settings of the baseline: the Django Channels tutorial chat, nothing more.

It is the yardstick for bench/compare.py, not part of Ruang Tanya. TUTORIAL_LAYER picks the
channel layer: `pubsub` (channels_redis.pubsub.RedisPubSubChannelLayer) or `core`
(channels_redis.core.RedisChannelLayer), both with the tutorial's defaults (no capacity, expiry or
pool tuning), on TUTORIAL_REDIS_URL under TUTORIAL_LAYER_PREFIX.
"""

import os

LAYERS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
LAYER = os.environ.get("TUTORIAL_LAYER", "pubsub")
if LAYER not in LAYERS:
    raise RuntimeError(f"TUTORIAL_LAYER must be one of {sorted(LAYERS)}, not {LAYER!r}")

SECRET_KEY = "tutorial-chat-bench-only"  # noqa: S105 - a local yardstick with no users or data
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
INSTALLED_APPS = ["daphne", "channels"]
ASGI_APPLICATION = "tutorial_chat.asgi.application"
DATABASES = {}
USE_TZ = True
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": LAYERS[LAYER],
        "CONFIG": {
            "hosts": [os.environ.get("TUTORIAL_REDIS_URL", "redis://127.0.0.1:6379/13")],
            "prefix": os.environ.get("TUTORIAL_LAYER_PREFIX", "rt:perf:tutorial"),
        },
    }
}
