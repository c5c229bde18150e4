"""What accounts tells higher apps. accounts is the lowest layer: it imports none of them.

Receivers live in the higher apps (connected in their AppConfig.ready()).
"""

from __future__ import annotations

from django.dispatch import Signal

# A person opted out of everything: kwargs user_id. Flag/purge their network accounts.
person_opted_out = Signal()

# Someone proved control of a network account and opted it out (maybe without an account with
# us): kwargs provider, uid, external_id (the network store's id; Mastodon: the actor URI), handle.
network_account_opted_out = Signal()

# A person linked a network account: kwargs user_id, provider, uid, external_id, handle, extra.
social_account_linked = Signal()

# A person unlinked a network account: kwargs user_id, provider, uid, external_id.
social_account_unlinked = Signal()

# A provider refused a credential; the link needs the person to reconnect: kwargs user_id, provider,
# uid.
credential_needs_reconnect = Signal()

# A credential works again after a reconnect: kwargs user_id, provider, uid.
credential_reconnected = Signal()

# The person is about to be deleted: kwargs user_id, email, linked (list of (provider, uid)).
# Receivers delete rows keyed by anything but a foreign key to the user (those go by cascade).
user_deleting = Signal()

# Export: receivers return {section name: JSON-serialisable data} for the person; kwargs user_id,
# linked (list of (provider, uid)).
collect_user_data = Signal()

# The person changed where they are (country, region or city): kwargs user_id, country, region.
person_location_changed = Signal()
