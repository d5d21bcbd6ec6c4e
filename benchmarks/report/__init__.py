"""Turn results.json into results.md (tables, targets, where the time goes) and results.png.

The package's modules, one part of the report each: ``document`` (``write``: the whole of
results.md, in order, then the chart), ``machine`` (the machine and versions in its header),
``targets`` (every target measured, and the Targets table's rows), ``tables`` (the helpers
and the per-request tables), ``sections`` and ``revocation`` (the other tables),
``time_spent`` (where the time goes) and ``chart`` (results.png).
"""

from __future__ import annotations

from .chart import chart
from .document import write
from .machine import machine
from .targets import targets

__all__ = ["chart", "machine", "targets", "write"]
