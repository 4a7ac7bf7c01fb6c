"""The dashboard's socket: parse → service → answer. Rules live in reference.queueing/messaging."""

from reference import events, handoff, presence, queueing, routing, selectors
from reference.consumers.base import ProtocolConsumer
from reference.errors import ServiceError
from reference.events import on_database_thread
from reference.messaging import send_librarian_message
from reference.models import Queue, Role
from reference.payloads import ack_frame, conversation_payload, message_payload
from reference.protocol import field


class LibrarianConsumer(ProtocolConsumer):
    role = Role.LIBRARIAN
    held = frozenset()

    async def connect(self):
        await super().connect()
        user = self.scope.get("user")
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            await self.send_error(ServiceError("not_authenticated"))

    @property
    def user(self):
        return self.scope["user"]

    async def hello(self, frame):
        since = self._since(frame)
        profile = await on_database_thread(queueing.librarian_profile)(self.user)
        queues = await on_database_thread(lambda: list(profile.queues.filter(is_active=True)))()
        self.name = profile.display_name
        await self.join(events.STAFF_GROUP)
        await self.join(events.librarian_group(self.user.pk))
        for queue in queues:
            await self.join(events.queue_group(queue.pk))
        # Join first, read second: anything published in between arrives twice, never zero times.
        held_ids = await on_database_thread(selectors.held_ids)(self.user)
        for conversation_id in held_ids:
            await self.join(events.conversation_group(conversation_id))
        waiting, held = await on_database_thread(self._state)([q.pk for q in queues], since)
        self.held = {c["id"] for c in held}
        await presence.socket_beat(user=self.user, socket_id=self.channel_name)
        colleagues = await on_database_thread(presence.roster)()
        transfer_queues, offers, assignments = await on_database_thread(self._handoff_state)()
        await self.send_frame(self.welcome(
            librarian={"id": self.user.pk, "name": profile.display_name, "max_chats": profile.max_chats,
                       "status": profile.status},
            colleagues=colleagues,
            transfer_queues=transfer_queues,
            offers=offers,
            assignments=assignments,
            queues=[{"id": q.pk, "name": q.name} for q in queues],
            waiting=waiting,
            conversations=held,
        ))

    @staticmethod
    def _since(frame):
        """`since`: {"<conversation id>": last seq the client has}; held chats resume after it."""
        since = field(frame, "since", dict, required=False, default={})
        try:
            since = {int(key): value for key, value in since.items()}
        except ValueError:
            raise ServiceError("invalid_frame", field="since") from None
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in since.values()):
            raise ServiceError("invalid_frame", field="since")
        return since

    def _state(self, queue_ids, since):
        waiting = [conversation_payload(c, for_librarian=True) for c in selectors.waiting_in_queues(queue_ids)]
        held = []
        for conversation in selectors.held_by(self.user):
            payload = conversation_payload(conversation, for_librarian=True)
            after = since.get(conversation.pk, 0)
            payload["messages"] = [message_payload(m) for m in conversation.messages.all() if m.seq > after]
            payload["transfers"] = handoff.transfer_history(conversation)
            held.append(payload)
        return waiting, held

    def _handoff_state(self):
        """Where a chat can be sent, and offers waiting for this librarian's answer."""
        queues = [{"id": q.pk, "name": q.name} for q in Queue.objects.filter(is_active=True)]
        offers = [handoff.transfer_payload(t) for t in selectors.open_offers_to(self.user)]
        assignments = [routing.offer_payload(o) for o in selectors.open_assignments_to(self.user)]
        return queues, offers, assignments

    def visible_conversation(self, conversation_id):
        return selectors.librarian_conversation(self.user, conversation_id)

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.ready:
            await presence.socket_gone(user=self.user, socket_id=self.channel_name)

    async def on_heartbeat(self, frame):
        """The dashboard's beat: proof that this librarian is really here."""
        await presence.socket_beat(user=self.user, socket_id=self.channel_name)

    async def on_status(self, frame):
        status = field(frame, "status", str)
        await on_database_thread(presence.set_status)(user=self.user, status=status)

    async def on_capacity(self, frame):
        max_chats = field(frame, "max_chats", int)
        await on_database_thread(presence.set_capacity)(user=self.user, max_chats=max_chats)

    async def on_transfer(self, frame):
        conversation_id = field(frame, "conversation", int)
        to_librarian = field(frame, "to_librarian", int, required=False)
        to_queue = field(frame, "to_queue", int, required=False)
        note = field(frame, "note", str, required=False, default="")
        if (to_librarian is None) == (to_queue is None):
            raise ServiceError("invalid_frame", field="to_librarian / to_queue")
        if to_librarian is not None:
            await on_database_thread(handoff.offer_to_colleague)(
                user=self.user, conversation_id=conversation_id, to_user_id=to_librarian, note=note)
        else:
            await on_database_thread(handoff.to_queue)(
                user=self.user, conversation_id=conversation_id, queue_id=to_queue, note=note)

    async def on_transfer_accept(self, frame):
        transfer_id = field(frame, "transfer", int)
        await on_database_thread(handoff.accept)(user=self.user, transfer_id=transfer_id)

    async def on_transfer_decline(self, frame):
        transfer_id = field(frame, "transfer", int)
        await on_database_thread(handoff.decline)(user=self.user, transfer_id=transfer_id)

    async def on_assignment_decline(self, frame):
        offer_id = field(frame, "offer", int)
        await on_database_thread(routing.decline)(user=self.user, offer_id=offer_id)

    async def on_claim(self, frame):
        conversation_id = field(frame, "conversation", int)
        # Listen before claiming so no patron message falls between the claim and the join;
        # until the claim succeeds, frames of that conversation are not forwarded.
        group = events.conversation_group(conversation_id)
        await self.join(group)
        try:
            await on_database_thread(queueing.claim_conversation)(
                user=self.user, conversation_id=conversation_id
            )
        except ServiceError:
            if conversation_id not in self.held:
                await self.leave(group)
            raise
        await self.follow(conversation_id)

    async def on_message(self, frame):
        attachment = field(frame, "attachment", int, required=False)
        message, _created = await on_database_thread(send_librarian_message, parallel=True)(
            user=self.user,
            conversation_id=field(frame, "conversation", int),
            text=field(frame, "text", str, required=attachment is None, default=""),
            client_id=field(frame, "client_id", str),
            attachment_id=attachment,
            origin=self.channel_name,
        )
        await self.send_frame(ack_frame(message))

    async def on_typing(self, frame):
        conversation_id = field(frame, "conversation", int)
        active = field(frame, "active", bool)
        if conversation_id not in self.held:
            raise ServiceError("not_assigned")
        await events.publish_now(
            events.conversation_group(conversation_id),
            {"type": "typing", "conversation": conversation_id, "role": "librarian",
             "author": self.name, "active": active},
            origin=self.channel_name,
        )

    async def on_close(self, frame):
        conversation_id = field(frame, "conversation", int)
        # The `conversation` frame (closed) comes back through the conversation's group, to
        # all our tabs; each leaves the group when it sees it.
        await on_database_thread(queueing.close_by_librarian)(
            user=self.user, conversation_id=conversation_id
        )

    async def follow(self, conversation_id):
        self.held = self.held | {conversation_id}
        await self.join(events.conversation_group(conversation_id))

    async def unfollow(self, conversation_id):
        self.held = self.held - {conversation_id}
        await self.leave(events.conversation_group(conversation_id))

    async def on_group_frame(self, frame, group):
        conversation_id = events.conversation_of_group(group)
        if conversation_id is not None and conversation_id not in self.held:
            return  # a claim still in flight (or one that failed)
        if frame["type"] == "conversation.released":
            await self.unfollow(frame["conversation"])
        if frame["type"] == "conversation":
            conversation = frame["conversation"]
            if conversation["status"] == "closed":
                await self.send_frame(frame)
                await self.unfollow(conversation["id"])
                return
            if group == events.librarian_group(self.user.pk) and conversation["status"] == "active":
                await self.follow(conversation["id"])  # claimed here or in another of our tabs
        await self.send_frame(frame)

