"""Test helpers: apps, a manual clock, a Pusher WebSocket client, a signed HTTP client."""
