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


async def test_a_group_send_reaches_every_member_but_its_origin_in_order():
    layer = ThrottledInMemoryChannelLayer()
    sender, other_tab, librarian = [await layer.new_channel() for _ in range(3)]
    for channel in (sender, other_tab, librarian):
        await layer.group_add("conv.1", channel)
    for n in (1, 2):
        await layer.group_send("conv.1", {"type": "frame.out", "n": n, "origin": sender})
    for channel in (other_tab, librarian):
        assert [(await layer.receive(channel))["n"] for _ in range(2)] == [1, 2]
    assert sender not in layer.channels  # nothing was queued for the socket that sent them


async def test_a_group_send_without_origin_reaches_all_and_leaves_the_senders_dict_alone():
    layer = ThrottledInMemoryChannelLayer()
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("queue.1", first)
    await layer.group_add("queue.1", second)
    event = {"type": "frame.out", "frame": {"type": "queue.added"}, "origin": None}
    await layer.group_send("queue.1", event)
    event["frame"]["type"] = "changed after sending"
    assert (await layer.receive(first))["frame"] == {"type": "queue.added"}
    assert (await layer.receive(second))["frame"] == {"type": "queue.added"}


async def test_a_full_member_queue_is_logged_and_the_others_still_get_the_frame(caplog):
    layer = ThrottledInMemoryChannelLayer(capacity=1)
    full, free = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("conv.1", full)
    await layer.send(full, {"type": "frame.out", "n": 0})
    await layer.group_add("conv.1", free)
    await layer.group_send("conv.1", {"type": "frame.out", "n": 1})
    assert (await layer.receive(free))["n"] == 1
    assert (await layer.receive(full))["n"] == 0
    assert f"channel {full} is full" in caplog.text
