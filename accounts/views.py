"""Sign-up, sign-in and sign-out pages."""

from django.conf import settings
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from accounts import services
from accounts.forms import SignInForm, SignUpForm, too_many_attempts
from accounts.models import User
from blog_project.exceptions import Conflict, RateLimited, Suspended
from blog_project.faces import client_ip, error_response


def _next_url(request: HttpRequest) -> str:
    """Where the visitor was going (?next= or the form's hidden field), if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _render_form(
    request: HttpRequest, template: str, form: SignInForm | SignUpForm, status: int = 200
) -> HttpResponse:
    return render(request, template, {"form": form, "next": _next_url(request)}, status=status)


def _too_many_attempts(
    request: HttpRequest, template: str, form: SignInForm | SignUpForm, refusal: RateLimited
) -> HttpResponse:
    form.add_error(None, too_many_attempts(refusal))
    response = _render_form(request, template, form, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def _signed_in(request: HttpRequest, user: User) -> HttpResponse:
    login(request, user)
    return redirect(_next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL))


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
