"""What registry tells the upstream side, without importing it.

Each sends `source_refs`: the set of source references whose removals changed.
"""

from django.dispatch import Signal

removals_delivered = Signal()
removals_acknowledged = Signal()
