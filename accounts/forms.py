"""Account forms: the sign-in and sign-up pages, and the admin's add and change forms.

The page forms only parse input; the rules (valid email, password strength, free username)
live in accounts.services so the pages and the API apply the same ones.
"""

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm

from accounts.models import User


def _min_password_length() -> int:
    """The shortest password the configured validators accept."""
    lengths = [
        validator.min_length
        for validator in password_validation.get_default_password_validators()
        if isinstance(validator, password_validation.MinimumLengthValidator)
    ]
    return max(lengths, default=1)


class PageForm(forms.Form):
    """Labels without Django's trailing colon, like every other label on the site."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SignInForm(PageForm):
    email = forms.CharField(
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class SignUpForm(PageForm):
    name = forms.CharField(
        label="Name (optional)",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.CharField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    username = forms.CharField(
        label="Username (optional)",
        required=False,
        help_text="Your public handle, as in /@handle/. Leave it empty to derive one from your email.",
        widget=forms.TextInput(attrs={"autocomplete": "nickname", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        strip=False,
        help_text=f"At least {_min_password_length()} characters; not a common password, not only digits.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class UserCreationForm(AdminUserCreationForm):
    """Admin "add user": email is the login; the username is derived from it when left empty."""

    class Meta:
        model = User
        fields = ("email", "username", "name")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["username"].required = False
        self.fields["username"].help_text = "Leave empty to derive it from the email."

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"])

    def clean(self) -> dict[str, Any]:
        super().clean()  # a ModelForm's clean() returns self.cleaned_data; its stub allows None
        cleaned_data = self.cleaned_data
        if not cleaned_data.get("username") and cleaned_data.get("email"):
            cleaned_data["username"] = User.objects.free_username(cleaned_data["email"])
        return cleaned_data


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"])
