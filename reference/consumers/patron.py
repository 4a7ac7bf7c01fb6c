"""The widget's socket: parse → check → one service call → answer. Rules live in the services."""

import time

from reference import (
    blocking,
    dbthreads,
    feedback,
    frames,
    groups,
    lifecycle,
    limits,
    offline_questions,
    patrons,
    presence,
    selectors,
    surveys,
    typing_status,
)
from reference.consumers.base import ProtocolConsumer
from reference.errors import ServiceError
from reference.messaging import do_send_patron_message
from reference.models import Role
from reference.protocol import field
from reference.tokens import read_patron_token
from reference.transcript_email import send_transcript
from widgets.selectors import desk_settings


class PatronConsumer(ProtocolConsumer):
    role = Role.PATRON
    frame_types = frozenset({"hello", "fetch", "read", "start", "message", "typing", "rate", "survey",
                             "transcript.email", "close", "ping"})
    identity = None
    site = None  # the widget site's reference.prechat.SiteSettings
    conversation_id = None
    patron_name = ""
    address_key = ""  # the keyed hash of the address the socket came from (reference.limits)
    typing_quiet_until = 0.0  # no second "too many typing frames" error before this (monotonic)

    async def connect(self):
        self.address_key = limits.address_key(limits.scope_address(self.scope))
        await super().connect()

    async def hello(self, frame):
        identity = read_patron_token(field(frame, "token", str))
        last_seq = field(frame, "last_seq", int, required=False, default=0)
        site = await dbthreads.run(desk_settings)(identity.site_key)
        conversation_id = await dbthreads.run(patrons.arrive)(site=site, identity=identity, language=self.language)
        self.identity, self.site = identity, site
        await limits.remember_address(identity.patron_id, self.address_key)  # for a librarian's block
        await self.join(groups.patron(identity.patron_id))
        await self.beat_presence()
        if conversation_id is not None:
            # Join the live stream before reading, so nothing falls in between (duplicates are
            # dropped by seq on the client).
            await self.follow(conversation_id)
        welcome, position = await dbthreads.run(selectors.patron_welcome)(
            patron_id=identity.patron_id, conversation_id=conversation_id, last_seq=last_seq,
            desk_queue_id=site.default_queue_id)
        if welcome["conversation"] is not None:
            self.patron_name = welcome["conversation"]["patron"]["name"]
        await self.send_frame(frames.welcome(**welcome))
        if position is not None:
            await self.send_frame(position)

    async def beat_presence(self):
        await presence.patron_beat(patron_id=self.identity.patron_id, socket_id=self.channel_name)

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.identity is not None:
            await presence.patron_gone(patron_id=self.identity.patron_id, socket_id=self.channel_name)

    async def heartbeat_extra(self):
        """Whether someone can answer live now, for a patron who has not asked yet."""
        await self.beat_presence()
        if self.conversation_id is None and self.identity is not None:
            return {"desk": await dbthreads.run(offline_questions.desk_state)(self.site.default_queue_id)}
        return {}

    def visible_conversation(self, conversation_id):
        return selectors.patron_conversation(self.identity.patron_id, conversation_id)

    async def follow(self, conversation_id):
        if self.conversation_id and self.conversation_id != conversation_id:
            await self.leave(groups.conversation(self.conversation_id))
        self.conversation_id = conversation_id
        await self.join(groups.conversation(conversation_id))

    def unless_blocked(self, service):
        return blocking.unless_blocked(service, patron_id=self.identity.patron_id, address_key=self.address_key)

    async def on_start(self, frame):
        await limits.acheck((limits.CHATS_PER_PATRON, self.identity.patron_id),
                            (limits.CHATS_PER_ADDRESS, self.address_key))
        conversation, message, created = await dbthreads.change(self.unless_blocked(lifecycle.do_start))(
            site=self.site,
            identity=self.identity,
            text=field(frame, "text", str),
            client_id=field(frame, "client_id", str),
            name=field(frame, "name", str, required=False, default=""),
            email=field(frame, "email", str, required=False, default=""),
            card_number=field(frame, "card", str, required=False, default=""),
            age_group=field(frame, "age_group", str, required=False, default=""),
            language=self.language,
            offline=field(frame, "offline", bool, required=False, default=False),
            queue_id=field(frame, "queue", int, required=False),
            faq_opt_out=field(frame, "faq_opt_out", bool, required=False, default=False),
        )
        self.patron_name = conversation.patron.name
        await self.follow(conversation.pk)
        if not created:  # a retry: the first answer may have been lost with the connection
            await self.send_frame(frames.conversation(conversation, messages=[message]))
        await self.send_frame(frames.ack(message))
        position = await dbthreads.run(selectors.position_of)(conversation)
        if position is not None:
            await self.send_frame(position)

    async def on_message(self, frame):
        attachment = field(frame, "attachment", int, required=False)
        await limits.acheck((limits.MESSAGES_PER_PATRON, self.identity.patron_id),
                            (limits.MESSAGES_PER_ADDRESS, self.address_key))
        message, _created = await dbthreads.change(self.unless_blocked(do_send_patron_message), parallel=True)(
            patron_id=self.identity.patron_id,
            text=field(frame, "text", str, required=attachment is None, default=""),
            client_id=field(frame, "client_id", str),
            attachment_id=attachment,
            origin=self.channel_name)
        await self.send_frame(frames.ack(message))

    async def on_rate(self, frame):
        conversation = await dbthreads.run(feedback.do_rate)(
            patron_id=self.identity.patron_id,
            conversation_id=field(frame, "conversation", int),
            rating=field(frame, "rating", int),
            comment=field(frame, "comment", str, required=False, default=""),
        )
        await self.send_frame(frames.rated(conversation))

    async def on_survey(self, frame):
        conversation_id = field(frame, "conversation", int)
        answers = await dbthreads.run(surveys.do_answer_survey)(
            patron_id=self.identity.patron_id, conversation_id=conversation_id,
            answers=surveys.parse_answers(field(frame, "answers", list)))
        await self.send_frame(frames.survey_answered(conversation_id, answers))

    async def on_transcript_email(self, frame):
        conversation_id = field(frame, "conversation", int)
        await limits.acheck((limits.TRANSCRIPTS_PER_ADDRESS, self.address_key))
        address = await send_transcript(patron_id=self.identity.patron_id, conversation_id=conversation_id,
                                        address=field(frame, "email", str))
        await self.send_frame(frames.transcript_sent(conversation_id, address))

    async def on_typing(self, frame):
        active = field(frame, "active", bool)
        retry_after = await limits.ahit((limits.TYPING_PER_PATRON, self.identity.patron_id))
        if retry_after:  # dropped, told once per window
            now = time.monotonic()
            if now >= self.typing_quiet_until:
                self.typing_quiet_until = now + retry_after
                raise ServiceError("rate_limited", retry_after=retry_after)
            return
        await typing_status.do_send_typing(
            conversation_id=self.conversation_id, role=self.role, author=self.patron_name,
            active=active, following={self.conversation_id}, origin=self.channel_name)

    async def on_close(self, frame):
        await dbthreads.change(lifecycle.do_close_by_patron)(patron_id=self.identity.patron_id)

    async def on_group_frame(self, frame, group):
        if frame["type"] == "conversation":
            conversation_id = frame["conversation"]["id"]
            if conversation_id != self.conversation_id:
                await self.follow(conversation_id)  # started from another tab
        await self.send_frame(frame)
