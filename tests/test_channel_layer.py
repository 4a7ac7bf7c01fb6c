"""The embedded default's in-memory layer walks its channels for expired messages at most once a second."""

import time

from channels import layers as channels_layers

from chatserver import channel_layers
from chatserver.channel_layers import ThrottledInMemoryChannelLayer


def test_the_expiry_walk_runs_at_most_once_a_second(monkeypatch):
    layer = ThrottledInMemoryChannelLayer()
    walks = []
    monkeypatch.setattr(channels_layers.InMemoryChannelLayer, "_clean_expired", lambda self: walks.append(1))
    clock = [1000.0]
    monkeypatch.setattr(channel_layers.time, "monotonic", lambda: clock[0])
    for _ in range(100):
        layer._clean_expired()
    assert len(walks) == 1
    clock[0] += channel_layers.CLEAN_EVERY
    layer._clean_expired()
    assert len(walks) == 2


async def test_expired_messages_are_still_dropped():
    layer = ThrottledInMemoryChannelLayer(expiry=60)
    channel = await layer.new_channel()
    await layer.group_add("conv.1", channel)
    await layer.send(channel, {"type": "frame.out"})
    expiry, _message = layer.channels[channel]._queue[0]
    layer.channels[channel]._queue[0] = (time.time() - 1, _message)  # as if 60 s had gone by
    layer._cleaned_at = 0.0
    layer._clean_expired()
    assert channel not in layer.channels and channel not in layer.groups.get("conv.1", {})
    assert expiry > time.time()
