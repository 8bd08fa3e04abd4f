"""An adapter handler that records what the adapter asks of its node."""

from __future__ import annotations

from opbx.protocol.app import AppId
from opbx.protocol.channels import ChannelName
from opbx.protocol.presence import UserId
from opbx.protocol.session import SocketId


class RecordingHandler:
    def __init__(self) -> None:
        self.delivered: list[tuple[str, str, bytes, str | None]] = []
        self.terminated: list[tuple[str, str]] = []
        self.members_left: list[tuple[str, str, str]] = []
        self.vacated: list[tuple[str, str]] = []

    def deliver(self, app_id: AppId, channel: ChannelName, message: bytes, except_socket: SocketId | None) -> None:
        self.delivered.append((app_id, channel, message, except_socket))

    def terminate_user(self, app_id: AppId, user_id: UserId) -> None:
        self.terminated.append((app_id, user_id))

    def member_left(self, app_id: AppId, channel: ChannelName, user_id: UserId) -> None:
        self.members_left.append((app_id, channel, user_id))

    def channel_vacated(self, app_id: AppId, channel: ChannelName) -> None:
        self.vacated.append((app_id, channel))
