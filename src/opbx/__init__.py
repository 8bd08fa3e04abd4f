"""OpBX Realtime: live phone-call presence over a Pusher-protocol realtime server."""

__version__ = "0.1.0"
