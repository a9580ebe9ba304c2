"""Activities shaped as Microsoft Teams sends them to a bot (personal chat)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

BOT_ID = "28:edi-bot-test"
DEFAULT_TENANT = "72f988bf-0000-4000-8000-00000000test"


@dataclass
class TeamsUser:
    """A member of staff in one tenant, with their personal chat with the bot."""

    name: str = "Alex Taylor"
    tenant_id: str = DEFAULT_TENANT
    aad_object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    conversation_id: str = field(default_factory=lambda: f"a:1{uuid.uuid4().hex}")

    @property
    def user_id(self) -> str:
        return f"29:1{self.aad_object_id.replace('-', '')}"

    def _base(self, kind: str, service_url: str) -> dict[str, Any]:
        return {
            "type": kind,
            "id": f"1{uuid.uuid4().int % 10**12}",
            "timestamp": datetime.now(UTC).isoformat(),
            "localTimestamp": datetime.now(UTC).isoformat(),
            "serviceUrl": service_url,
            "channelId": "msteams",
            "from": {"id": self.user_id, "name": self.name, "aadObjectId": self.aad_object_id},
            "conversation": {
                "conversationType": "personal",
                "tenantId": self.tenant_id,
                "id": self.conversation_id,
            },
            "recipient": {"id": BOT_ID, "name": "EDI bot"},
            "entities": [
                {
                    "locale": "en-GB",
                    "country": "GB",
                    "platform": "Web",
                    "timezone": "Europe/London",
                    "type": "clientInfo",
                }
            ],
            "channelData": {"tenant": {"id": self.tenant_id}},
            "locale": "en-GB",
            "localTimezone": "Europe/London",
        }

    def message(self, text: str, service_url: str) -> dict[str, Any]:
        """A typed message."""
        activity = self._base("message", service_url)
        activity["text"] = text
        activity["textFormat"] = "plain"
        return activity

    def submit(self, value: Any, service_url: str) -> dict[str, Any]:
        """What an Adaptive Card Action.Submit sends: no text, `value` = data + inputs."""
        activity = self._base("message", service_url)
        activity["value"] = value
        activity["replyToId"] = f"1{uuid.uuid4().int % 10**12}"
        return activity

    def file_message(
        self, service_url: str, *, name: str, download_url: str, text: str = ""
    ) -> dict[str, Any]:
        """A file sent in the personal chat, as Teams sends it to a bot with supportsFiles:
        a file download info attachment with a pre-authenticated downloadUrl."""
        activity = self.message(text, service_url)
        activity["attachments"] = [
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "contentUrl": f"https://contoso-my.sharepoint.com/personal/x/Documents/{name}",
                "name": name,
                "content": {
                    "downloadUrl": download_url,
                    "uniqueId": str(uuid.uuid4()),
                    "fileType": name.rsplit(".", 1)[-1],
                },
            }
        ]
        return activity

    def inline_image(self, service_url: str, *, content_url: str, text: str = "") -> dict[str, Any]:
        """An image pasted into a message: an image attachment on the Bot Connector, and the
        HTML copy of the message Teams adds."""
        activity = self.message(text, service_url)
        activity["attachments"] = [
            {"contentType": "image/*", "contentUrl": content_url},
            {"contentType": "text/html", "content": f'<div><img src="{content_url}"></div>'},
        ]
        return activity

    def installed(self, service_url: str) -> dict[str, Any]:
        """installationUpdate (add), sent when the app is installed for this person."""
        activity = self._base("installationUpdate", service_url)
        activity["action"] = "add"
        return activity

    def uninstalled(self, service_url: str) -> dict[str, Any]:
        """installationUpdate (remove), sent when the app is uninstalled."""
        activity = self._base("installationUpdate", service_url)
        activity["action"] = "remove"
        return activity

    def bot_added(self, service_url: str) -> dict[str, Any]:
        """conversationUpdate with the bot in membersAdded: the personal chat was created."""
        activity = self._base("conversationUpdate", service_url)
        activity["membersAdded"] = [{"id": BOT_ID}]
        return activity
