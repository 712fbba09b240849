"""Account forms: the sign-in and sign-up pages, and the admin's add and change forms.

The page forms only parse input; the rules (valid email, password strength, free username)
live in accounts.services so the pages and the API apply the same ones.
"""

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm

from accounts.models import User
from accounts.services import unique_username


class PageForm(forms.Form):
    """Labels without Django's trailing colon, like every other label on the site."""

    def __init__(self, *args, **kwargs):
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
        help_text="At least 8 characters; not a common password, not only digits.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class UserCreationForm(AdminUserCreationForm):
    """Admin "add user": email is the login; the username is derived from it when left empty."""

    class Meta:
        model = User
        fields = ("email", "username", "name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].required = False
        self.fields["username"].help_text = "Leave empty to derive it from the email."

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"])

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("username") and cleaned_data.get("email"):
            cleaned_data["username"] = unique_username(cleaned_data["email"])
        return cleaned_data


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"])
