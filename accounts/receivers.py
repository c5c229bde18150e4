"""Receivers for allauth's signals: save encrypted tokens and tell higher apps about links."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_signed_up
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.signals import social_account_added, social_account_updated
from django.dispatch import receiver
from django.utils import timezone

from accounts import signals
from accounts.adapters import handle_of
from accounts.crypto import encrypt_token
from accounts.external_ids import network_external_id
from accounts.models import ExportJob, ExportStatus
from accounts.services import save_credential
from klout.delivery import task_given_up


def _store_link(sociallogin: SocialLogin, *, newly_linked: bool) -> None:
    account = sociallogin.account
    if account.pk is None or account.user_id is None:
        return
    encrypted = getattr(sociallogin, "klout_encrypted_tokens", None)
    if encrypted is None:
        # The login went through a session round-trip (sign-up form, re-authentication), which
        # drops our attribute; the keys were already checked in pre_social_login.
        token = sociallogin.token
        encrypted = (
            encrypt_token(token.token if token else ""),
            encrypt_token(token.token_secret if token else ""),
            token.expires_at if token else None,
        )
    access, refresh, expires_at = encrypted
    save_credential(
        user_id=account.user_id,
        provider=account.provider,
        uid=account.uid,
        access_token_enc=access,
        refresh_token_enc=refresh,
        expires_at=expires_at,
    )
    if newly_linked:
        signals.social_account_linked.send(
            sender=SocialLogin,
            user_id=account.user_id,
            provider=account.provider,
            uid=account.uid,
            external_id=network_external_id(account.provider, account.uid, account.extra_data),
            handle=handle_of(sociallogin),
            extra=account.extra_data,
        )


@receiver(social_account_added, dispatch_uid="accounts.link_added")
def on_social_account_added(sender: Any, request: Any, sociallogin: SocialLogin, **kw: Any) -> None:
    _store_link(sociallogin, newly_linked=True)


@receiver(social_account_updated, dispatch_uid="accounts.link_updated")
def on_social_account_updated(
    sender: Any, request: Any, sociallogin: SocialLogin, **kw: Any
) -> None:
    # Fires on log-in and on reconnect; fresh tokens replace the old ones.
    _store_link(sociallogin, newly_linked=False)


@receiver(user_signed_up, dispatch_uid="accounts.signed_up_with_link")
def on_user_signed_up(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    sociallogin = kw.get("sociallogin")
    if sociallogin is not None:
        _store_link(sociallogin, newly_linked=True)


@receiver(task_given_up, dispatch_uid="accounts.task_given_up")
def on_task_given_up(
    sender: Any, *, task_name: str, args: tuple[Any, ...], reason: str, **kw: Any
) -> None:
    """An export whose task kept killing its worker is failed with the reason, not left pending."""
    if task_name == "accounts.export_user_data" and args:
        ExportJob.objects.filter(pk=args[0]).update(
            status=ExportStatus.FAILED, error=reason, finished_at=timezone.now()
        )
