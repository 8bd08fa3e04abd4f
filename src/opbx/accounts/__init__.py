"""Users of the OpBX API: password hashes and bearer tokens."""
