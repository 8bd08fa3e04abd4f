"""The call domain: states, events, provider webhooks, the call log and the service."""
