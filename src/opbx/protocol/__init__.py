"""The Pusher Channels protocol, sans I/O: no sockets, no event loop, no clock.

Spec: https://pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol
"""
