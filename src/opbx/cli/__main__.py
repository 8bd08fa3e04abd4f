"""``python -m opbx.cli``: the same as the ``opbx`` command."""

from opbx.cli import main

raise SystemExit(main())
