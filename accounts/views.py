"""Account pages: sign-up, sign-in and sign-out, settings, and password reset."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts import services, uploads
from accounts.forms import (
    AvatarForm,
    DeleteAccountForm,
    EmailForm,
    PasswordChangeForm,
    ProfileForm,
    RequestResetForm,
    ResetPasswordForm,
    SignInForm,
    SignUpForm,
    too_many_attempts,
)
from accounts.models import User
from accounts.ratelimit import count_auth_attempt
from accounts.selectors import signed_in_user
from faces.middleware import allow_body_size
from faces.pages import add_refusal, next_url
from faces.registry import client_ip, error_response
from kernel.exceptions import Conflict, RateLimited, Suspended, TooLarge


def _render_form(
    request: HttpRequest, template: str, form: SignInForm | SignUpForm, status: int = 200
) -> HttpResponse:
    return render(request, template, {"form": form, "next": next_url(request)}, status=status)


def _too_many_attempts(
    request: HttpRequest, template: str, form: SignInForm | SignUpForm, refusal: RateLimited
) -> HttpResponse:
    form.add_error(None, too_many_attempts(refusal))
    response = _render_form(request, template, form, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def _signed_in(request: HttpRequest, user: User) -> HttpResponse:
    login(request, user)
    return redirect(next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL))


def signin(request: HttpRequest) -> HttpResponse:
    template = "accounts/signin.html"
    if request.method != "POST":
        return _render_form(request, template, SignInForm())
    form = SignInForm(request.POST)
    if form.is_valid():
        try:
            user = services.sign_in(ip=client_ip(request), **form.cleaned_data)
        except RateLimited as refusal:
            return _too_many_attempts(request, template, form, refusal)
        except Suspended as refusal:
            form.add_error(None, refusal.message)
            return _render_form(request, template, form)
        if user is not None:
            return _signed_in(request, user)
        # One message for an unknown email and a wrong password alike.
        form.add_error(None, "That email and password do not match an account.")
    return _render_form(request, template, form)


def signup(request: HttpRequest) -> HttpResponse:
    template = "accounts/signup.html"
    if request.method != "POST":
        return _render_form(request, template, SignUpForm())
    form = SignUpForm(request.POST)
    if form.is_valid():
        try:
            user = services.sign_up(ip=client_ip(request), **form.cleaned_data)
        except RateLimited as refusal:
            return _too_many_attempts(request, template, form, refusal)
        except ValidationError as exc:
            form.add_error(None, exc)
        except Conflict as exc:
            for field, message in exc.errors.items():
                form.add_error(field, message)
        else:
            return _signed_in(request, user)
    return _render_form(request, template, form)


def signout(request: HttpRequest) -> HttpResponse:
    # A link or an image on another site must not be able to sign anyone out: POST only.
    if request.method != "POST":
        response = error_response(request, 405, "Sign out with the Sign out button in the menu.")
        response["Allow"] = "POST"
        return response
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- Settings: one page, one form per action, each posting to its own address --------------

SETTINGS_TEMPLATE = "accounts/settings.html"


def _settings_page(request: HttpRequest, user: User, status: int = 200, **bound: Form) -> HttpResponse:
    """The settings page, with any form that was just sent shown as sent (with its errors)."""
    context: dict[str, object] = {
        "profile_form": ProfileForm.for_user(user),
        "avatar_form": AvatarForm(),
        "email_form": EmailForm(),
        "password_form": PasswordChangeForm(),
        "delete_form": DeleteAccountForm(auto_id=DeleteAccountForm.ID_FORMAT),
        **bound,
    }
    return render(request, SETTINGS_TEMPLATE, context, status=status)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    return _settings_page(request, signed_in_user(request.user))


@login_required
@require_POST
def settings_profile(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request.user)
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            services.update_profile(user=user, **form.cleaned_data)
        except (ValidationError, Conflict) as error:
            add_refusal(form, error)
        else:
            messages.success(request, "Profile saved.")
            return redirect("accounts:settings")
    user.refresh_from_db()  # the page shows what is stored beside what was sent
    return _settings_page(request, user, status=400, profile_form=form)


@allow_body_size(uploads.MiB * settings.QUILL_UPLOAD_MAX_MB)
@login_required
@require_POST
def settings_avatar(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request.user)
    form = AvatarForm(request.POST, request.FILES)
    retry_after = None
    if form.is_valid():
        avatar = form.cleaned_data["avatar"]
        try:
            if avatar:
                uploads.store_avatar(user=user, file=avatar)
                message = "Picture saved."
            elif form.cleaned_data["remove"]:
                uploads.remove_avatar(user=user)
                message = "Picture removed: your initial shows instead."
            else:
                form.add_error("avatar", "Choose a picture, or tick the box to remove yours.")
        except ValidationError as error:
            form.add_error("avatar", error.messages)
        except TooLarge as refusal:
            form.add_error("avatar", refusal.message)
        except RateLimited as refusal:
            form.add_error("avatar", uploads.too_many_uploads(refusal))
            retry_after = refusal.retry_after
        if form.is_valid():
            messages.success(request, message)
            return redirect("accounts:settings")
    response = _settings_page(request, user, status=400 if retry_after is None else 429, avatar_form=form)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@login_required
@require_POST
def settings_email(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request.user)
    form = EmailForm(request.POST)
    if form.is_valid():
        try:
            services.change_email(user=user, ip=client_ip(request), **form.cleaned_data)
        except RateLimited as refusal:
            form.add_error(None, too_many_attempts(refusal))
        except (ValidationError, Conflict) as error:
            add_refusal(form, error)
        else:
            messages.success(request, f"Your email is now {user.email}. Use it to sign in.")
            return redirect("accounts:settings")
    return _settings_page(request, user, status=400, email_form=form)


@login_required
@require_POST
def settings_password(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request.user)
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            services.change_password(user=user, ip=client_ip(request), **form.cleaned_data)
        except RateLimited as refusal:
            form.add_error(None, too_many_attempts(refusal))
        except ValidationError as error:
            add_refusal(form, error)
        else:
            update_session_auth_hash(request, user)  # this browser stays signed in
            messages.success(request, "Password changed. Every other device and app is signed out.")
            return redirect("accounts:settings")
    return _settings_page(request, user, status=400, password_form=form)


@login_required
@require_POST
def settings_sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request.user)
    services.sign_out_everywhere(user=user)
    update_session_auth_hash(request, user)
    messages.success(request, "Signed out everywhere else: other browsers and apps must sign in again.")
    return redirect("accounts:settings")


@login_required
@require_POST
def settings_delete(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request.user)
    form = DeleteAccountForm(request.POST, auto_id=DeleteAccountForm.ID_FORMAT)
    if form.is_valid():
        try:
            services.delete_account(user=user, password=form.cleaned_data["password"], ip=client_ip(request))
        except RateLimited as refusal:
            form.add_error(None, too_many_attempts(refusal))
        except ValidationError as error:
            add_refusal(form, error)
        else:
            logout(request)
            messages.success(request, "Your account, your stories and your pictures are deleted. Goodbye.")
            return redirect(settings.LOGOUT_REDIRECT_URL)
    return _settings_page(request, user, status=400, delete_form=form)


# --- Password reset: Django's views, rate limited, ending every session on success ----------


class PasswordResetView(auth_views.PasswordResetView):
    form_class = RequestResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_sent")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        try:
            count_auth_attempt(ip=client_ip(self.request), email=form.cleaned_data["email"])
        except RateLimited as refusal:
            form.add_error(None, too_many_attempts(refusal))
            response = self.form_invalid(form)
            response.status_code = 429
            response["Retry-After"] = str(refusal.retry_after)
            return response
        # The same answer whether or not an account has this email.
        return super().form_valid(form)


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = ResetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@allow_body_size(uploads.MiB * settings.QUILL_UPLOAD_MAX_MB)
def upload_image(request: HttpRequest) -> HttpResponse:
    """POST /media/upload/ with an image in `file` (the editor's image button, by fetch with the
    CSRF token): JSON {"url", "width", "height", "size"}, or {"error"} with its status."""
    if request.method != "POST":
        response = JsonResponse({"error": "Upload images with POST."}, status=405)
        response["Allow"] = "POST"
        return response
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Sign in to upload images."}, status=401)
    file = request.FILES.get("file")
    if file is None:
        return JsonResponse({"error": "Choose an image to upload."}, status=400)
    try:
        upload = uploads.store_image(owner=signed_in_user(request.user), file=file)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages), "details": error.message_dict}, status=400)
    except TooLarge as refusal:
        return JsonResponse({"error": refusal.message}, status=413)
    except RateLimited as refusal:
        response = JsonResponse({"error": uploads.too_many_uploads(refusal)}, status=429)
        response["Retry-After"] = str(refusal.retry_after)
        return response
    body = {"url": uploads.media_url(upload), "width": upload.width, "height": upload.height}
    return JsonResponse({**body, "size": upload.size}, status=201)
