"""An organization's directory: its users, extensions and numbers, and who may change them.

One set of operations (:class:`~opbx.directory.service.Directory`) serves the operator's
command line (``opbx org|user|extension|did``), the admin API and the demo's seeding, so
every path applies the same rules and leaves the same audit trail.
"""
