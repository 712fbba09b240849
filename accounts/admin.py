"""Moderation of accounts: find users fast, suspend them (which also revokes their API tokens)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from accounts.forms import AdminPasswordForm, AdminSignInForm, UserChangeForm, UserCreationForm
from accounts.models import User
from accounts.services import Suspension, reinstate_users, suspend_users

SUSPENDED_SELF = "You cannot suspend your own account."

# The admin's sign-in counts attempts like the site's (per IP and per account).
admin.site.login_form = AdminSignInForm


def _users(count: int) -> str:
    return ngettext("%(count)d user", "%(count)d users", count) % {"count": count}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("username", "name", "bio")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "username", "name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "username", "name", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "username", "name")
    ordering = ("-date_joined",)
    actions = ["suspend_selected", "reinstate_selected"]

    def _report(self, request: HttpRequest, suspension: Suspension) -> None:
        if suspension.kept_self:
            self.message_user(request, SUSPENDED_SELF, messages.WARNING)

    @admin.action(description="Suspend selected users", permissions=["change"])
    def suspend_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        assert isinstance(request.user, User)  # the admin is for signed-in staff
        suspension = suspend_users(users=queryset, moderator=request.user)
        if suspension.suspended or not suspension.kept_self:
            self.message_user(
                request, f"Suspended {_users(suspension.suspended)}; their API tokens no longer work."
            )
        self._report(request, suspension)

    @admin.action(description="Reinstate selected users", permissions=["change"])
    def reinstate_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        reinstated = reinstate_users(users=queryset)
        self.message_user(request, f"Reinstated {_users(reinstated)}; they can sign in again.")

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        # Unticking "active" on the form is a suspension: the service does it, with its rules.
        suspending = change and "is_active" in form.changed_data and not obj.is_active
        if suspending:
            obj.is_active = True
        super().save_model(request, obj, form, change)
        if suspending:
            assert isinstance(request.user, User)
            self._report(request, suspend_users(users=[obj], moderator=request.user))
