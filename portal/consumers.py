"""The one WebSocket of a portal page: it carries the user's live events, and on the company directory
page (`?directory=1`) the status changes of the user's colleagues too."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from telephony import listeners
from telephony.events import company_group, user_group

# Like HTTP 401: the browser must log in again rather than retry.
CLOSE_UNAUTHENTICATED = 4401


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Joins the logged-in user's group (and, for the directory, their company's) and forwards each
    live event to the browser as JSON."""

    joined: list[str]

    async def connect(self) -> None:
        self.joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.joined.append(user_group(user.id))
        # Only the directory page listens to the company: every other page would drop its events.
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        if query.get("directory") == ["1"] and user.company_id is not None:
            self.joined.append(company_group(user.company_id))
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            # Before accepting: once the page is live, the bridge knows to send it these events.
            await listeners.joined(group)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
            await listeners.left(group)

    async def live_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
