"""Broadcasting call events to the realtime server: a Broadcaster Protocol and its drivers.

Drivers are chosen by name (``OPBX_BROADCAST_DRIVER``): ``inprocess`` (the embedded
default: the realtime server runs in this process), ``pusher`` (the signed HTTP API of any
Pusher-compatible server: ours, Soketi, hosted Pusher), ``log`` and ``null``.
"""
