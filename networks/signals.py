"""What the network store tells higher apps.

`account_hidden` is sent (inside the transaction) when an account turns protected: kwargs
account_id. Caches that might still show it (the API's pre-serialised answers) drop it.
"""

from __future__ import annotations

from django.dispatch import Signal

account_hidden = Signal()
