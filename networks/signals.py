"""What networks tells higher apps (scoring) about its accounts.

`accounts_hidden` is sent (on commit) when accounts became hidden by any path (opt-out, protection
seen in ingested data or set by staff, claimed by a person who opted out): kwargs account_ids.
"""

from __future__ import annotations

from django.dispatch import Signal

accounts_hidden = Signal()
