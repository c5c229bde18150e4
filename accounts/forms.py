"""Forms of the settings pages."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import NotificationPreference, User
from accounts.notice_kinds import notice_kinds
from accounts.time_zones import known_zones


class DeleteAccountForm(forms.Form):
    """Deleting is final, so the person types their e-mail and password."""

    email = forms.EmailField(label="Your e-mail address")
    password = forms.CharField(label="Your password", widget=forms.PasswordInput, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.has_usable_password():
            del self.fields["password"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if email.strip().lower() != self.user.email.lower():
            raise forms.ValidationError("That is not the e-mail address of this account.")
        return str(email)

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password", "")
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not right.")
        return str(password)


class NotificationPreferenceForm(forms.ModelForm):
    muted_kinds = forms.MultipleChoiceField(
        label="Turn off",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Kinds of notification you do not want, on the site or in the digest.",
    )

    class Meta:
        model = NotificationPreference
        fields = ["score_move_threshold", "in_app", "weekly_digest", "perk_email", "muted_kinds"]
        labels = {"score_move_threshold": "Score move threshold (points)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = notice_kinds()
        field = self.fields["muted_kinds"]
        field.choices = choices  # type: ignore[attr-defined]
        offered = {kind for kind, _label in choices}
        self.initial["muted_kinds"] = [k for k in self.instance.muted_kinds if k in offered]

    def clean_muted_kinds(self) -> list[str]:
        """The kinds ticked, plus any muted kind no longer offered (kept, not silently revived)."""
        offered = {kind for kind, _label in notice_kinds()}
        kept = [k for k in self.instance.muted_kinds if k not in offered]
        return sorted(set(self.cleaned_data["muted_kinds"]) | set(kept))

    def clean_score_move_threshold(self) -> int:
        value = int(self.cleaned_data["score_move_threshold"])
        if not 1 <= value <= 50:
            raise forms.ValidationError("Choose between 1 and 50 points.")
        return value


class LocationForm(forms.ModelForm):
    """Where the person is: a country, and optionally a region or city."""

    class Meta:
        model = User
        fields = ["country", "region"]
        help_texts = {
            "country": "Some perks are only for people in certain places.",
            "region": "Optional, for example Ontario or Toronto.",
        }

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("region") and not data.get("country"):
            self.add_error("country", "Choose a country for that region or city.")
        return data


class TimeZoneForm(forms.Form):
    """The time zone a person's hours are shown in; empty keeps the browser's (or UTC)."""

    time_zone = forms.ChoiceField(
        required=False,
        help_text="Hours on your dashboard (when your audience acts) are shown in this zone.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "My browser's time zone (UTC without one)")] + [
            (name, name) for name in sorted(known_zones())
        ]
