"""Moderation of accounts: find users fast, suspend them (which also revokes their API tokens)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from accounts.forms import UserChangeForm, UserCreationForm
from accounts.models import User
from accounts.services import revoke_all_tokens, suspend_users


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
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
    actions = ["suspend_selected"]

    @admin.action(description="Suspend selected users", permissions=["change"])
    def suspend_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # Suspending yourself would lock you out of this page mid-moderation.
        suspended = suspend_users(queryset.exclude(pk=request.user.pk))
        users = ngettext("%(count)d user", "%(count)d users", suspended) % {"count": suspended}
        self.message_user(request, f"Suspended {users}; their API tokens no longer work.")
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "You cannot suspend your own account.", messages.WARNING)

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Unticking "active" on the form is a suspension too: the API tokens must stop working.
        if change and "is_active" in form.changed_data and not obj.is_active:
            revoke_all_tokens(obj)
