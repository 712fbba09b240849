"""The editor's form. It only parses what was typed; the story rules live in posts.services."""

from collections.abc import Mapping
from typing import TypedDict

from django import forms

from posts.models import MAX_TAGS, TITLE_MAX_LENGTH, Post


class StoryFields(TypedDict):
    """A story's fields as the editor sends them to posts.services."""

    title: str
    content: str
    tags: list[str]


class PostForm(forms.Form):
    # Which button was pressed. "draft" and "unpublish" both leave the story unpublished; they
    # differ only in what the button says and what the author is told afterwards.
    ACTION_CHOICES = [
        ("draft", "Save draft"),
        ("publish", "Publish"),
        ("unpublish", "Unpublish"),
        ("preview", "Preview"),
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
    # Pressing Enter in a text field submits without a button: "" keeps the current status.
    action = forms.ChoiceField(choices=ACTION_CHOICES, required=False)

    @classmethod
    def for_post(cls, post: Post | None, data: Mapping[str, object] | None = None) -> "PostForm":
        """The form for a new story (post=None) or prefilled with an existing one."""
        initial = {}
        if post is not None:
            initial = {
                "title": post.title,
                "content": post.content,
                "tags": ", ".join(tag.name for tag in post.tags.all()),
            }
        return cls(data, initial=initial)

    def clean_tags(self) -> list[str]:
        return [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]

    def text_fields(self) -> StoryFields:
        """The story fields as posts.services takes them."""
        return StoryFields(
            title=self.cleaned_data["title"],
            content=self.cleaned_data["content"],
            tags=self.cleaned_data["tags"],
        )

    def current_content(self) -> str:
        """The Markdown on screen: what was just typed, or the stored story."""
        return self.data.get("content", "") if self.is_bound else self.initial.get("content", "")
