"""What every page view shares: where to go next, the core's refusals on a form, and the
answers of buttons that work with or without JavaScript (JSON for the page's script, a
redirect with a message for a plain form)."""

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from kernel.exceptions import Conflict


def next_url(request: HttpRequest, default: str = "") -> str:
    """Where the visitor was going (?next= or the form's hidden `next`) when it is on this
    site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def add_refusal(
    form: forms.BaseForm, refusal: ValidationError | Conflict, *, field_names: Mapping[str, str] | None = None
) -> None:
    """Puts a refusal of the core beside the fields it names (`field_names` maps the core's
    names to the form's where they differ); the rest goes above the form."""
    if isinstance(refusal, Conflict):
        problems: Mapping[str, Any] = {field: [message] for field, message in refusal.errors.items()}
    elif hasattr(refusal, "error_dict"):
        problems = refusal.message_dict
    else:
        form.add_error(None, refusal)
        return
    for field, messages_ in problems.items():
        name = (field_names or {}).get(field, field)
        form.add_error(name if name in form.fields else None, messages_)


def wants_json(request: HttpRequest) -> bool:
    """Whether the page's script asked (browsers send `text/html, ..., */*`: only a request
    that prefers JSON gets it)."""
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def json_answer(data: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    patch_vary_headers(response, ["Accept"])  # the same URL answers HTML too
    return response


def json_or_redirect(
    request: HttpRequest,
    *,
    to: str,
    message: str,
    data: Callable[[], dict[str, Any]],
    status: int = 200,
    level: int = messages.SUCCESS,
) -> HttpResponse:
    """A button's answer: `data()` as JSON for the page's script (made only then: it may
    cost a query), or for a plain form a redirect to `to` with `message` shown there."""
    if wants_json(request):
        return json_answer(data(), status=status)
    messages.add_message(request, level, message)
    return redirect(to)


def sign_in_first(request: HttpRequest, back: str, message: str) -> HttpResponse:
    """Anonymous visitors are sent to sign in, then back to the page they were on (not to the
    POST-only address of the action); the page's script gets a 401 and where to sign in."""
    signin = redirect_to_login(back)
    if wants_json(request):
        return json_answer({"error": message, "signin_url": signin["Location"]}, status=401)
    messages.info(request, message)
    return signin


class FriendlyPaginator(Paginator):
    """Turns a malformed or too-large ?page= into the nearest real page, and says so
    (`notice`, shown above the list by templates/_pagination.html's pages)."""

    notice = ""

    def get_page(self, number: int | float | str | None) -> Page:
        page = super().get_page(number)
        asked = str(number).strip() if number is not None else ""
        if asked and asked != str(page.number):
            self.notice = f"There is no page “{asked}”: this is page {page.number} of {self.num_pages}."
        return page
