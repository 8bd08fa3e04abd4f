"""The realtime server around the sans-I/O protocol core: sockets, fan-out, HTTP API."""
