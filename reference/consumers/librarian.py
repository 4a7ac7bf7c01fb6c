"""The dashboard's socket: parse → check → one service call → answer. Rules live in the services."""

from reference import (
    assessment,
    blocking,
    dbthreads,
    duty,
    frames,
    groups,
    handoff,
    lifecycle,
    limits,
    presence,
    protocol,
    routing,
    selectors,
    typing_status,
)
from reference.consumers.base import StaffConsumer
from reference.errors import ServiceError
from reference.messaging import do_send_librarian_message
from reference.notes import do_add_note
from reference.protocol import field, id_list


class LibrarianConsumer(StaffConsumer):
    frame_types = frozenset({"hello", "fetch", "read", "claim", "message", "typing", "close", "status", "capacity",
                             "heartbeat", "transfer", "transfer.accept", "transfer.decline", "assignment.decline",
                             "assess", "note", "duty.dismiss", "block", "return.offline", "ping"})
    held = frozenset()

    async def hello(self, frame):
        since = self._since(frame)
        profile = await dbthreads.run(presence.librarian_profile)(self.user)
        self.name = profile.display_name
        library_ids, queue_ids, held_ids = await dbthreads.run(selectors.librarian_groups)(self.user)
        self.library_ids = library_ids
        # Join first, read second: anything published in between arrives twice, never zero times.
        for group in [*map(groups.staff, library_ids), *map(groups.cover, library_ids),
                      groups.librarian(self.user.pk), *map(groups.queue, queue_ids),
                      *map(groups.conversation, held_ids)]:
            await self.join(group)
        self.held = set(held_ids)
        await presence.socket_beat(user=self.user, socket_id=self.channel_name)
        welcome = await dbthreads.run(selectors.librarian_welcome)(self.user, queue_ids=queue_ids, since=since)
        self.held = {c["id"] for c in welcome["conversations"]}
        await self.send_frame(frames.welcome(**welcome))

    @staticmethod
    def _since(frame):
        """`since`: {"<conversation id>": last seq the client has}; held chats resume after it."""
        since = field(frame, "since", dict, required=False, default={})
        try:
            since = {protocol.id_from_text(key, "since"): value for key, value in since.items()}
        except ServiceError:
            raise ServiceError("invalid_frame", field="since") from None
        if not all(protocol.is_int(v) and v >= 0 for v in since.values()):
            raise ServiceError("invalid_frame", field="since")
        return since

    def visible_conversation(self, conversation_id):
        return selectors.librarian_conversation(self.user, conversation_id)

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.ready:
            await presence.socket_gone(user=self.user, socket_id=self.channel_name)

    def _own_library_chat(self, frame):
        conversation = frame.get("conversation")
        cover = conversation.get("cover") if isinstance(conversation, dict) else None
        return bool(cover) and cover["home_library"]["id"] in self.library_ids

    async def on_heartbeat(self, frame):
        """The dashboard's beat: proof that this librarian is really here."""
        await presence.socket_beat(user=self.user, socket_id=self.channel_name)

    async def on_status(self, frame):
        status = field(frame, "status", str)
        await dbthreads.change(presence.do_set_status)(user=self.user, status=status)

    async def on_capacity(self, frame):
        max_chats = field(frame, "max_chats", int)
        await dbthreads.change(presence.do_set_capacity)(user=self.user, max_chats=max_chats)

    async def on_transfer(self, frame):
        conversation_id = field(frame, "conversation", int)
        to_librarian = field(frame, "to_librarian", int, required=False)
        to_queue = field(frame, "to_queue", int, required=False)
        note = field(frame, "note", str, required=False, default="")
        if (to_librarian is None) == (to_queue is None):
            raise ServiceError("invalid_frame", field="to_librarian / to_queue")
        if to_librarian is not None:
            await dbthreads.change(handoff.do_offer_transfer)(
                user=self.user, conversation_id=conversation_id, to_user_id=to_librarian, note=note)
        else:
            await dbthreads.change(handoff.do_transfer_to_queue)(
                user=self.user, conversation_id=conversation_id, queue_id=to_queue, note=note)

    async def on_return_offline(self, frame):
        conversation_id = field(frame, "conversation", int)
        note = field(frame, "note", str, required=False, default="")
        await dbthreads.change(handoff.do_return_offline)(user=self.user, conversation_id=conversation_id, note=note)

    async def on_transfer_accept(self, frame):
        transfer_id = field(frame, "transfer", int)
        await dbthreads.change(handoff.do_accept_transfer)(user=self.user, transfer_id=transfer_id)

    async def on_transfer_decline(self, frame):
        transfer_id = field(frame, "transfer", int)
        await dbthreads.change(handoff.do_decline_transfer)(user=self.user, transfer_id=transfer_id)

    async def on_assignment_decline(self, frame):
        offer_id = field(frame, "offer", int)
        await dbthreads.change(routing.do_decline_assignment)(user=self.user, offer_id=offer_id)

    async def on_claim(self, frame):
        conversation_id = field(frame, "conversation", int)
        # Listen before claiming so no patron message falls between the claim and the join;
        # until the claim succeeds, frames of that conversation are not forwarded.
        group = groups.conversation(conversation_id)
        await self.join(group)
        try:
            await dbthreads.change(lifecycle.do_claim)(user=self.user, conversation_id=conversation_id)
        except ServiceError:
            if conversation_id not in self.held:
                await self.leave(group)
            raise
        await self.follow(conversation_id)

    async def on_message(self, frame):
        attachment = field(frame, "attachment", int, required=False)
        await limits.acheck((limits.MESSAGES_PER_STAFF, self.user.pk))
        message, _created = await dbthreads.change(do_send_librarian_message, parallel=True)(
            user=self.user,
            conversation_id=field(frame, "conversation", int),
            text=field(frame, "text", str, required=attachment is None, default=""),
            client_id=field(frame, "client_id", str),
            attachment_id=attachment,
            origin=self.channel_name,
        )
        await self.send_frame(frames.ack(message))

    async def on_typing(self, frame):
        await typing_status.do_send_typing(
            conversation_id=field(frame, "conversation", int), role=self.role, author=self.name,
            active=field(frame, "active", bool), following=self.held, origin=self.channel_name)

    async def on_close(self, frame):
        conversation_id = field(frame, "conversation", int)
        # The `conversation` frame (closed) comes back through the conversation's group, to
        # all our tabs; each leaves the group when it sees it.
        await dbthreads.change(lifecycle.do_close_by_librarian)(user=self.user, conversation_id=conversation_id)

    async def on_block(self, frame):
        """Block the patron of a held chat for a while (reference.blocking); the chat's closing
        `conversation` frame comes back through its group, as after `close`."""
        await dbthreads.change(blocking.do_block_patron)(
            user=self.user, conversation_id=field(frame, "conversation", int),
            minutes=field(frame, "minutes", int), reason=field(frame, "reason", str, required=False, default=""))

    async def on_assess(self, frame):
        await dbthreads.change(assessment.do_assess)(
            user=self.user, conversation_id=field(frame, "conversation", int),
            topic_ids=id_list(frame, "topics", required=False),
            read_scale=field(frame, "read_scale", int, required=False),
            question_type=field(frame, "question_type", str, required=False, default=""))

    async def on_note(self, frame):
        # The `note` frame comes back through the holder's group to all their tabs, this one too.
        await dbthreads.change(do_add_note)(
            user=self.user, conversation_id=field(frame, "conversation", int), text=field(frame, "text", str),
            about=field(frame, "about", str, required=False, default="conversation"),
            client_id=field(frame, "client_id", str, required=False, default=""))

    async def on_duty_dismiss(self, frame):
        """The librarian read what went back to the queue while they were away (reference.duty)."""
        conversation_ids = id_list(frame, "conversations")
        await dbthreads.change(duty.do_dismiss_requeued)(user=self.user, conversation_ids=conversation_ids)

    async def follow(self, conversation_id):
        self.held = self.held | {conversation_id}
        await self.join(groups.conversation(conversation_id))

    async def unfollow(self, conversation_id):
        self.held = self.held - {conversation_id}
        await self.leave(groups.conversation(conversation_id))

    async def on_group_frame(self, frame, group):
        conversation_id = groups.conversation_of(group)
        if conversation_id is not None and conversation_id not in self.held:
            return  # a claim still in flight (or one that failed), or a chat released just now
        if groups.cover_library_of(group) is not None and self._own_library_chat(frame):
            return  # a chat of one of our own libraries: its queue's members see it there
        if frame["type"] == "conversation.released":
            await self.unfollow(frame["conversation"])
        if frame["type"] == "conversation":
            conversation = frame["conversation"]
            if conversation["status"] == "closed":
                await self.send_frame(frame)
                await self.unfollow(conversation["id"])
                return
            if group == groups.librarian(self.user.pk) and conversation["status"] == "active":
                await self.follow(conversation["id"])  # claimed here or in another of our tabs
        await self.send_frame(frame)
