"""The editor's form and the response form. They only parse what was typed; the rules live in
posts.services."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.dateparse import parse_datetime

from posts.models import COMMENT_MAX_LENGTH, COVER_MAX_LENGTH, MAX_TAGS, TITLE_MAX_LENGTH, Post

IMAGE_TYPES = "image/jpeg,image/png,image/webp,image/gif"
# What a datetime-local input sends (seconds and fractions only when the browser has them).
LOCAL_TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f")
LOCAL_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
SCHEDULE_TIME_REQUIRED = "Choose the date and time to publish at."
SCHEDULE_TIME_INVALID = "Give the time as a date and an hour, e.g. 2026-12-24 09:00."


class PostFields(TypedDict):
    """A story's fields as the editor sends them to posts.services."""

    title: str
    content: str
    tags: list[str]
    cover_image: str


class PostForm(forms.Form):
    # Which button was pressed. "save" keeps the story's status (Ctrl+S, and Save changes of a
    # scheduled story); "draft", "unschedule" and "unpublish" all leave it a draft and differ
    # only in what the button says and what the author is told afterwards. "take_theirs" drops
    # what was typed for the saved version, after a conflict.
    ACTION_CHOICES = [
        ("save", "Save"),
        ("draft", "Save draft"),
        ("publish", "Publish"),
        ("schedule", "Schedule"),
        ("unschedule", "Unschedule"),
        ("unpublish", "Unpublish"),
        ("preview", "Preview"),
        ("take_theirs", "Take theirs"),
    ]

    title = forms.CharField(
        required=False,
        strip=False,
        widget=forms.TextInput(
            attrs={"placeholder": "Title", "maxlength": TITLE_MAX_LENGTH, "autocomplete": "off"}
        ),
    )
    # Not stripped: leading spaces can start an indented code block.
    content = forms.CharField(
        label="Story",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 20, "placeholder": "Tell your story… (Markdown)"}),
    )
    tags = forms.CharField(
        required=False,
        help_text=f"Up to {MAX_TAGS}, separated by commas.",
        widget=forms.TextInput(attrs={"placeholder": "writing, django", "autocomplete": "off"}),
    )
    # The version of the story the editor was opened on: a save over a newer one is refused.
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    # Rules for the address (https or an upload of Quill's) are posts.services'. Not type=url:
    # browsers would refuse Quill's own /media/ addresses.
    cover_image = forms.CharField(
        label="Cover image address",
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": "https://…",
                "maxlength": COVER_MAX_LENGTH,
                "autocomplete": "off",
                "inputmode": "url",
            }
        ),
    )
    # Uploads sent with the form when JavaScript is off (with it, quill.js uploads them at once
    # and sends only their addresses). The page view stores them with accounts.uploads.
    cover_file = forms.FileField(
        label="Upload a cover", required=False, widget=forms.FileInput(attrs={"accept": IMAGE_TYPES})
    )
    remove_cover = forms.BooleanField(label="Remove the cover", required=False)
    image_file = forms.FileField(
        label="Add an image", required=False, widget=forms.FileInput(attrs={"accept": IMAGE_TYPES})
    )
    # When to publish, for Schedule: the browser's local time as ISO 8601 with its offset
    # (quill.js fills publish_at_iso), or else the datetime-local field read in TIME_ZONE.
    publish_at = forms.CharField(
        label="Publish at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1}),
    )
    publish_at_iso = forms.CharField(required=False, widget=forms.HiddenInput)
    # Unpublish asks first: the confirmation (the dialog, or the page's own step) sends this.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # Pressing Enter in a text field submits without a button: "" keeps the current status.
    action = forms.ChoiceField(choices=ACTION_CHOICES, required=False)

    @classmethod
    def for_post(
        cls,
        post: Post | None,
        data: Mapping[str, Any] | None = None,
        files: MultiValueDict[str, UploadedFile] | None = None,
    ) -> "PostForm":
        """The form for a new story (post=None) or prefilled with an existing one."""
        initial: dict[str, object] = {}
        if post is not None:
            initial = {
                "title": post.title,
                "content": post.content,
                "tags": ", ".join(tag.name for tag in post.tags.all()),
                "version": post.version,
                "cover_image": post.cover_image,
            }
            if post.is_scheduled and post.published_at is not None:
                initial["publish_at"] = local_time_value(post.published_at)
        return cls(data, files, initial=initial)

    def clean_tags(self) -> list[str]:
        return [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["schedule_at"] = None
        if cleaned.get("action") == "schedule":
            cleaned["schedule_at"] = self._schedule_time(cleaned)
        return cleaned

    def _schedule_time(self, cleaned: Mapping[str, Any]) -> datetime | None:
        """The time to publish at, aware; adds the error to publish_at when there is none."""
        when = _aware(cleaned.get("publish_at_iso") or "")
        typed = (cleaned.get("publish_at") or "").strip()
        if when is None and typed:
            when = _local(typed)
            if when is None:
                self.add_error("publish_at", SCHEDULE_TIME_INVALID)
                return None
        if when is None:
            self.add_error("publish_at", SCHEDULE_TIME_REQUIRED)
        return when  # posts.services decides whether it is still to come

    def text_fields(self) -> PostFields:
        """The story fields as posts.services takes them."""
        cover = "" if self.cleaned_data["remove_cover"] else self.cleaned_data["cover_image"]
        return PostFields(
            title=self.cleaned_data["title"],
            content=self.cleaned_data["content"],
            tags=self.cleaned_data["tags"],
            cover_image=cover,
        )

    def current_content(self) -> str:
        """The Markdown on screen: what was just typed, or the stored story."""
        return self.data.get("content", "") if self.is_bound else self.initial.get("content", "")

    def current_cover(self) -> str:
        """The cover address on screen: what was just typed or uploaded, or the stored one."""
        if self.is_bound:
            return "" if self.data.get("remove_cover") else str(self.data.get("cover_image", "")).strip()
        return str(self.initial.get("cover_image", ""))


def local_time_value(moment: datetime) -> str:
    """A time as a datetime-local input shows it, in the site's time zone (TIME_ZONE)."""
    return timezone.localtime(moment).strftime(LOCAL_TIME_FORMAT)


def _aware(value: str) -> datetime | None:
    """An ISO 8601 time with its offset (what quill.js sends), else None."""
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        return None
    return moment if moment is not None and timezone.is_aware(moment) else None


def _local(value: str) -> datetime | None:
    """A datetime-local value read in the site's time zone (TIME_ZONE), else None."""
    for time_format in LOCAL_TIME_FORMATS:
        try:
            return timezone.make_aware(datetime.strptime(value, time_format))
        except ValueError:
            continue
    return None


class CommentForm(forms.Form):
    """A response to a story. The rules (required, 5,000 characters, no NUL) are
    posts.services.add_comment's; the form only carries the text and gives it back on error."""

    body = forms.CharField(
        label="Your response",
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 4, "maxlength": COMMENT_MAX_LENGTH, "placeholder": "What are your thoughts?"}
        ),
    )

    def clean_body(self) -> str:
        # Browsers send a textarea's line breaks as CR LF but count them as one character
        # against maxlength: store them as LF so the two limits agree.
        return str(self.cleaned_data["body"]).replace("\r\n", "\n")
