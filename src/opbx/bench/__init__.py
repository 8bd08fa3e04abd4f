"""``opbx bench``: a load generator for any Pusher-protocol server."""
