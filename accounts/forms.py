"""Account forms: the sign-in and sign-up pages, and the admin's add and change forms.

The page forms only parse input; the rules (valid email, password strength, free username)
live in accounts.services so the pages and the API apply the same ones.
"""

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm

from accounts import services
from accounts.jobs import send_password_reset
from accounts.models import BIO_MAX_LENGTH, User
from faces.registry import client_ip
from kernel.exceptions import RateLimited, Suspended


def too_many_attempts(refusal: RateLimited) -> str:
    """What a sign-in or sign-up form says when the rate limit refuses an attempt."""
    return f"Too many attempts from here. Please wait {refusal.retry_after} seconds and try again."


PASSWORD_HELP = (
    f"At least {services.password_min_length()} characters; not a common password, not only digits."
)


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
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class ProfileForm(PageForm):
    name = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    username = forms.CharField(
        help_text="Your public handle, as in /@handle/. Letters, digits and underscores.",
        widget=forms.TextInput(attrs={"autocomplete": "nickname", "autocapitalize": "none"}),
    )
    bio = forms.CharField(
        required=False,
        strip=False,
        help_text=f"A few words about you, shown on your author page (up to {BIO_MAX_LENGTH:,} characters).",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    @classmethod
    def for_user(cls, user: User) -> "ProfileForm":
        return cls(initial={"name": user.name, "username": user.username, "bio": user.bio})


class AvatarForm(PageForm):
    avatar = forms.ImageField(
        label="New picture",
        required=False,
        help_text="A JPEG, PNG, WebP or GIF image; it is cropped to a square.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    remove = forms.BooleanField(label="Remove my picture", required=False)


class EmailForm(PageForm):
    email = forms.CharField(label="New email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordChangeForm(PageForm):
    current_password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        strip=False,
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class DeleteAccountForm(PageForm):
    # Its own ids: the email form on the same page has a `password` field too.
    ID_FORMAT = "id_delete_%s"

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="I understand: my account, my stories and my pictures are deleted for good.",
        error_messages={"required": "Tick the box to confirm."},
    )


class RequestResetForm(PasswordResetForm):
    """Django's reset request, labelled like the site's other forms; the email goes out by a
    job (accounts.jobs), so a slow or unreachable mail server never holds up the answer."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # Django's form has found the account and made a token: the job makes its own when it
        # runs, so that no token waits in the job table.
        send_password_reset.enqueue(
            user_id=context["user"].pk, site=f"{context['protocol']}://{context['domain']}"
        )


class ResetPasswordForm(SetPasswordForm):
    """Sets the new password from a reset link through accounts.services, which also ends
    every session and token the account had."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = PASSWORD_HELP

    def save(self, commit: bool = True) -> User:
        assert isinstance(self.user, User)
        services.set_password(user=self.user, new_password=self.cleaned_data["new_password1"])
        return self.user


class AdminPasswordForm(AdminPasswordChangeForm):
    """The admin's password change, ending the account's tokens and sessions like any other."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        assert isinstance(user, User)
        services.password_replaced(user=user)
        return user


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


class AdminSignInForm(AdminAuthenticationForm):
    """The admin's sign-in, through the same service (and rate limit) as the site's."""

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            assert self.request is not None  # the admin's login view always passes it
            try:
                self.user_cache = services.sign_in(email=email, password=password, ip=client_ip(self.request))
            except RateLimited as refusal:
                raise forms.ValidationError(too_many_attempts(refusal), code="rate_limited") from refusal
            except Suspended as refusal:
                raise forms.ValidationError(refusal.message, code="inactive") from refusal
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
