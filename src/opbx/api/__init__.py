"""The OpBX HTTP API: sign-in, channel authorization, call logs, provider webhooks, health."""
