"""The one WebSocket of a portal page: it carries the user's live events, nothing else."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from telephony import listeners
from telephony.events import user_group

# Like HTTP 401: the browser must log in again rather than retry.
CLOSE_UNAUTHENTICATED = 4401


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Joins the logged-in user's group and forwards each live event to the browser as JSON."""

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group(user.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Before accepting: once the page is live, the bridge knows to send it events.
        await listeners.joined(self.group)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await listeners.left(self.group)

    async def live_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
