"""A staff page's socket (transcripts, offline questions, the FAQ pages, the admin…): it keeps the
librarian on duty while they work away from the dashboard. It beats presence exactly as a dashboard
socket does, so their chats go back to the queue only when none of their staff pages is open for the
grace period (docs/presence.md), and it tells the page's duty bar how many chats they hold and
whether a chat is offered to them (to be answered on the dashboard)."""

from reference import dbthreads, frames, groups, presence, selectors
from reference.consumers.base import StaffConsumer


class StaffPageConsumer(StaffConsumer):
    frame_types = frozenset({"hello", "heartbeat", "ping"})  # it follows no conversation

    async def hello(self, frame):
        # Listen first, then read: a change in between arrives as a frame too.
        profile = await dbthreads.run(presence.librarian_profile)(self.user)
        for library_id in await dbthreads.run(presence.profile_library_ids)(profile):
            await self.join(groups.staff(library_id))
        await self.join(groups.librarian(self.user.pk))
        await presence.socket_beat(user=self.user, socket_id=self.channel_name)
        welcome = await dbthreads.run(selectors.staff_page_welcome)(profile)
        await self.send_frame(frames.welcome(**welcome))

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.ready:
            await presence.socket_gone(user=self.user, socket_id=self.channel_name)

    async def on_heartbeat(self, frame):
        """The page's beat, every heartbeat interval: the librarian is still at work."""
        await presence.socket_beat(user=self.user, socket_id=self.channel_name)

    async def on_group_frame(self, frame, group):
        if self.for_the_bar(frame):
            await self.send_frame(frame)

    def for_the_bar(self, frame):
        """How this librarian stands (their load) and the chats offered to them; nothing about
        colleagues or about the chats themselves."""
        kind = frame["type"]
        if kind == "presence":
            return frame["librarian"]["id"] == self.user.pk
        if kind == "transfer":
            return frame["transfer"]["to_id"] == self.user.pk
        return kind == "assignment"  # the librarian's group only carries their own
