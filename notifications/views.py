"""The notifications pages: the list, marking read, the settings, and the unsubscribe page of
emails (which signs nobody in)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.selectors import signed_in_user
from faces.pages import FriendlyPaginator, json_or_redirect, next_url
from kernel.exceptions import InvalidToken
from notifications import selectors, services, texts
from notifications.forms import DeliveryForm

PAGE_SIZE = 20


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """Newest first, 20 a page; the page shows which were new, and marks them read."""
    member = signed_in_user(request.user)
    page = FriendlyPaginator(selectors.notifications_of(member=member), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    entries = [
        {
            "notice": notice,
            "summary": texts.summary(notice),
            "link": texts.link(notice),
            "unread": notice.read_at is None,
        }
        for notice in page
    ]
    response = render(request, "notifications/list.html", {"page": page, "entries": entries})
    services.mark_read(member=member, ids=[entry["notice"].pk for entry in entries if entry["unread"]])
    return response


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    member = signed_in_user(request.user)
    count = services.mark_read(member=member)
    return json_or_redirect(
        request,
        to=next_url(request, reverse("notifications:list")),
        message="All your notifications are marked read." if count else "You had no unread notifications.",
        data=lambda: {"unread": 0},
    )


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    member = signed_in_user(request.user)
    form = DeliveryForm(request.POST or None, initial=selectors.deliveries_of(member=member))
    if request.method == "POST" and form.is_valid():
        services.set_delivery(member=member, choices=form.cleaned_data)
        messages.success(request, "Your notification settings are saved.")
        return redirect("notifications:settings")
    return render(request, "notifications/settings.html", {"form": form}, status=400 if form.errors else 200)


@csrf_exempt  # mail clients POST here (RFC 8058) with no session: the signed link is the proof
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link checkers open links: nothing changes on a GET); POST unsubscribes, from
    the page's button or a mail client's one-click."""
    template = "notifications/unsubscribe.html"
    try:
        if request.method == "POST":
            _, kind = services.unsubscribe(token=token)
        else:
            _, kind = services.unsubscribe_claims(token=token)
    except InvalidToken as refusal:
        return render(request, template, {"error": refusal.message}, status=400)
    return render(request, template, {"kind": kind.label, "done": request.method == "POST"})
