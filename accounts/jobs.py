"""Accounts' emails, sent by jobs (SPEC §9.1). A job's arguments are ids and plain text, never a
secret: the reset link is made when the job runs, so no token waits in the job table."""

from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.events import EmailChanged
from accounts.models import User
from jobs import job
from mail import messages


@job()
def send_password_reset(*, user_id: int, site: str) -> None:
    """The reset link for an account that asked; `site` is "https://host" as the request came.
    Nothing goes to an account suspended or deleted since, or left without a usable password."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    messages.send(
        template="accounts/mail/password_reset", to=user.email, context={"user": user, "link": site + path}
    )


@job()
def send_email_changed(*, user_id: int, old_email: str) -> None:
    """Tells the address an account left that it did, in case the change was not the owner's."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.email == old_email:
        return
    messages.send(
        template="accounts/mail/email_changed",
        to=old_email,
        # Not the new address: the notice may reach someone who no longer holds the account.
        context={"user": user, "old_email": old_email},
    )


def tell_the_old_address(event: EmailChanged) -> None:
    """EmailChanged, in its transaction: the notice is queued with the change."""
    send_email_changed.enqueue(user_id=event.user_id, old_email=event.old_email)
