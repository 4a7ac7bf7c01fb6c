"""The widget's socket: parse → service → answer. Rules live in reference.queueing/messaging."""

from django.conf import settings

from reference import events, feedback, offline_questions, queueing, selectors, transcript_email, waiting
from reference.consumers.base import ProtocolConsumer
from reference.errors import ServiceError
from reference.events import on_database_thread
from reference.messaging import send_patron_message
from reference.models import Patron, Role
from reference.payloads import ack_frame, conversation_frame, message_payload
from reference.presence_store import get_store, off_db_thread
from reference.protocol import field
from reference.tokens import read_patron_token


class PatronConsumer(ProtocolConsumer):
    role = Role.PATRON
    identity = None
    desk_queue = None
    conversation_id = None
    patron_name = ""

    async def hello(self, frame):
        identity = read_patron_token(field(frame, "token", str))
        last_seq = field(frame, "last_seq", int, required=False, default=0)
        conversation = await on_database_thread(self._current_conversation)(identity)
        self.identity = identity
        await self.join(events.patron_group(identity.patron_id))
        await self.beat_presence()
        messages = []
        if conversation is not None:
            # Join the live stream before reading, so nothing falls in between (duplicates are
            # dropped by seq on the client).
            await self.follow(conversation.pk)
            messages = await on_database_thread(selectors.messages_after)(conversation, last_seq)
        await self.send_frame(self.welcome(
            conversation=conversation_frame(conversation)["conversation"] if conversation else None,
            messages=[message_payload(m) for m in messages],
            desk=await on_database_thread(offline_questions.desk_state)(self.desk_queue),
        ))
        if conversation is not None:
            await self.send_position(conversation)

    async def beat_presence(self):
        """This widget is alive: a waiting patron keeps their place (see queueing.abandon_waiting)."""
        await off_db_thread(get_store("patrons").beat)(
            self.identity.patron_id.hex, self.channel_name, settings.PRESENCE_TIMEOUT)

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.identity is not None:
            await off_db_thread(get_store("patrons").drop)(self.identity.patron_id.hex, self.channel_name)

    async def heartbeat_extra(self):
        await self.beat_presence()
        """Whether someone can answer live now, for a patron who has not asked yet."""
        if self.conversation_id is None and self.identity is not None:
            return {"desk": await on_database_thread(offline_questions.desk_state)(self.desk_queue)}
        return {}

    async def send_position(self, conversation):
        """Where a waiting patron stands; later changes come through the conversation's group."""
        if conversation.status == conversation.Status.QUEUED:
            position = await on_database_thread(waiting.position_of)(conversation)
            if position:
                await self.send_frame(position)

    def visible_conversation(self, conversation_id):
        return selectors.patron_conversation(self.identity.patron_id, conversation_id)

    def _current_conversation(self, identity):
        site, patron = queueing.patron_for(identity, language=self.language)
        self.desk_queue = site.default_queue
        self.patron_name = patron.name if patron else ""
        return selectors.patron_current_conversation(patron)

    async def follow(self, conversation_id):
        if self.conversation_id and self.conversation_id != conversation_id:
            await self.leave(events.conversation_group(self.conversation_id))
        self.conversation_id = conversation_id
        await self.join(events.conversation_group(conversation_id))

    async def on_start(self, frame):
        conversation, message, created = await on_database_thread(queueing.start_conversation)(
            identity=self.identity,
            text=field(frame, "text", str),
            client_id=field(frame, "client_id", str),
            name=field(frame, "name", str, required=False, default=""),
            email=field(frame, "email", str, required=False, default=""),
            card_number=field(frame, "card", str, required=False, default=""),
            language=self.language,
            offline=field(frame, "offline", bool, required=False, default=False),
            queue_id=field(frame, "queue", int, required=False),
        )
        self.patron_name = conversation.patron.name
        await self.follow(conversation.pk)
        if not created:  # a retry: the first answer may have been lost with the connection
            await self.send_frame(conversation_frame(conversation, messages=[message]))
        await self.send_ack(message)
        await self.send_position(conversation)

    async def on_message(self, frame):
        attachment = field(frame, "attachment", int, required=False)
        text = field(frame, "text", str, required=attachment is None, default="")
        client_id = field(frame, "client_id", str)
        message, _created = await on_database_thread(send_patron_message, parallel=True)(
            patron_id=self.identity.patron_id, text=text, client_id=client_id, attachment_id=attachment,
            origin=self.channel_name)
        await self.send_ack(message)

    async def on_rate(self, frame):
        conversation = await on_database_thread(feedback.rate)(
            patron_id=self.identity.patron_id,
            conversation_id=field(frame, "conversation", int),
            rating=field(frame, "rating", int),
            comment=field(frame, "comment", str, required=False, default=""),
        )
        await self.send_frame({"type": "rated", "conversation": conversation.pk,
                               "rating": conversation.rating, "comment": conversation.rating_comment})

    async def on_transcript_email(self, frame):
        conversation_id = field(frame, "conversation", int)
        address = await transcript_email.send_transcript(
            patron_id=self.identity.patron_id, conversation_id=conversation_id,
            address=field(frame, "email", str))
        await self.send_frame({"type": "transcript.sent", "conversation": conversation_id, "email": address})

    async def on_typing(self, frame):
        active = field(frame, "active", bool)
        if self.conversation_id is None:
            raise ServiceError("no_conversation")
        await events.publish_now(
            events.conversation_group(self.conversation_id),
            {"type": "typing", "conversation": self.conversation_id, "role": "patron",
             "author": self.patron_name, "active": active},
            origin=self.channel_name,
        )

    async def on_close(self, frame):
        await on_database_thread(self._close)()

    def _close(self):
        patron = Patron.objects.filter(pk=self.identity.patron_id).first()
        if patron is None:
            raise ServiceError("no_conversation")
        return queueing.close_by_patron(patron=patron)

    async def send_ack(self, message):
        await self.send_frame(ack_frame(message))

    async def on_group_frame(self, frame, group):
        if frame["type"] == "conversation":
            conversation_id = frame["conversation"]["id"]
            if conversation_id != self.conversation_id:
                await self.follow(conversation_id)  # started from another tab
        await self.send_frame(frame)
