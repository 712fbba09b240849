"""Reader pages, the editor, the author's own story list, and claps, follows and responses.
Rules live in services/selectors; their refusals (not found, not yours) become the friendly
error pages (faces.registry)."""

import difflib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST, require_safe

from accounts import services as account_services
from accounts import uploads
from accounts.models import User
from accounts.selectors import get_followed, get_profile, signed_in_user
from faces.middleware import allow_body_size
from faces.pages import (
    FriendlyPaginator,
    add_refusal,
    json_answer,
    json_or_redirect,
    next_url,
    sign_in_first,
    wants_json,
)
from kernel.exceptions import NotAllowed, NotFound, RateLimited, StaleWrite, TooLarge
from posts.export import export_archive
from posts.forms import CommentForm, PostForm
from posts.markdown import render_markdown
from posts.models import Comment, Post, Revision, normalize_tag
from posts.search import clean_query
from posts.selectors import (
    authors_to_follow,
    comments_of,
    feed_posts,
    get_comment,
    get_post_by_slug,
    posts_of,
    published_posts,
    reading_list,
    with_social,
)
from posts.services import (
    add_comment,
    bookmark,
    can_delete_comment,
    clap,
    create_post,
    delete_comment,
    delete_post,
    ensure_author,
    is_author,
    restore_revision,
    unbookmark,
    unclap,
    update_post,
)

if TYPE_CHECKING:
    from posts.selectors import SocialPost

PAGE_SIZE = 10


def _page(request: HttpRequest, posts: QuerySet[Post]) -> "Page[SocialPost]":
    """One page of story cards, each with its clap and response counts (no query per card)."""
    return FriendlyPaginator(with_social(posts, viewer=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "posts/home.html", {"page": _page(request, published_posts())})


def detail(request: HttpRequest, slug: str) -> HttpResponse:
    post = get_post_by_slug(slug=slug, user=request.user, social=True)
    return _post_page(request, post, CommentForm())


def author(request: HttpRequest, username: str) -> HttpResponse:
    writer = get_profile(username=username, viewer=request.user)
    if writer.username != username:  # /@Ada/ -> /@ada/, the one address of an author
        return redirect("posts:author", writer.username, permanent=True)
    page = _page(request, published_posts(author=writer.username))
    is_self = writer.pk == request.user.pk
    return render(request, "posts/author.html", {"author": writer, "page": page, "is_self": is_self})


def tag(request: HttpRequest, tag: str) -> HttpResponse:
    name = normalize_tag(tag)
    if not name:
        raise NotFound("No such tag.", thing="tag")
    if name != tag:  # /tag/Web Development/ -> /tag/web-development/, the one address of a tag
        return redirect("posts:tag", name, permanent=True)
    if not published_posts(tag=name).exists():  # no story readers can see has it
        raise NotFound("No such tag.", thing="tag")
    return render(request, "posts/tag.html", {"tag": name, "page": _page(request, published_posts(tag=name))})


def search(request: HttpRequest) -> HttpResponse:
    query = clean_query(request.GET.get("q"))
    page = _page(request, published_posts(query=query)) if query else None
    return render(request, "posts/search.html", {"query": query, "page": page})


@login_required
def my_posts(request: HttpRequest) -> HttpResponse:
    posts = list(posts_of(user=signed_in_user(request.user)))
    context = {
        "drafts": [post for post in posts if not post.is_published_or_scheduled],
        # The next to go up first.
        "scheduled": sorted((post for post in posts if post.is_scheduled), key=_publication_time),
        "published": [post for post in posts if post.is_published],
    }
    return render(request, "posts/my_posts.html", context)


def _publication_time(post: Post) -> datetime:
    return post.published_at or post.updated_at


def _own_post(request: HttpRequest, slug: str) -> Post:
    """The visitor's own story. Someone else's draft is 404, their published story 403."""
    post = get_post_by_slug(slug=slug, user=request.user)
    ensure_author(post=post, user=request.user)
    return post


# --- The editor ------------------------------------------------------------------------------
# One form (posts.forms.PostForm) for writing, saving, publishing, scheduling and unpublishing,
# which works without JavaScript; quill.js adds the live preview, the copy kept on this device,
# uploads at the cursor, Ctrl+S and the questions before leaving or unpublishing.

SIGN_IN_TO_SAVE = "Your text is kept in this browser; sign in to save it."
TAKEN_THEIRS = "You are editing the saved version now; your changes were dropped."
# The editor's form may carry a cover and an image (browsers without JavaScript send them
# with the text), each up to the upload limit.
EDITOR_BODY_LIMIT = (2 * settings.QUILL_UPLOAD_MAX_MB + 1) * uploads.MiB
# Fields of posts.services whose editor field has another name.
EDITOR_FIELD = {"published_at": "publish_at"}
DIFF_MAX_LINES = 400

View = Callable[..., HttpResponse]


def _sign_in_to_save(*, always: bool) -> Callable[[View], View]:
    """A save sent after the session ended goes to sign in, then back to the editor, which
    offers the copy quill.js kept in this browser; the sign-in page says so. `always`: also
    for reading the editor (a story's editor is otherwise 403/404 for visitors, like the story
    itself: the address of a draft does not lead anywhere)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated and (always or request.method == "POST"):
                if request.method == "POST":
                    messages.info(request, SIGN_IN_TO_SAVE)
                return redirect_to_login(request.get_full_path())
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


@dataclass(frozen=True)
class SavedVersion:
    """The story as it is stored, shown beside the author's text after a save over a newer
    version was refused (StaleWrite)."""

    post: Post
    tags: str
    action: str  # the button the author pressed: Keep mine presses it again
    diff: list[tuple[str, str]]  # (kind, line): from the saved text to the author's


def _when(moment: datetime) -> str:
    """A time as pages say it: in the site's time zone, named."""
    return f"{date_format(timezone.localtime(moment), 'M j, Y, H:i')} {timezone.get_current_timezone_name()}"


def _with_image(content: str, url: str) -> str:
    return f"{content.rstrip()}\n\n![]({url})\n" if content.strip() else f"![]({url})\n"


def _bound_form(request: HttpRequest, post: Post | None, user: User) -> tuple[PostForm, int | None]:
    """The form as sent, validated. Images sent with it (browsers without JavaScript) are
    stored first: the cover's address goes in its field, an image's Markdown at the end of the
    text, so that neither is lost whatever happens to the save. Also the seconds to wait when
    an image came over the upload rate (QUILL_UPLOAD_RATE), else None."""
    data = request.POST.copy()
    problems: dict[str, list[str]] = {}
    retry_after = None
    for field in ("cover_file", "image_file"):
        file = request.FILES.get(field)
        if file is None:
            continue
        try:
            upload = uploads.store_image(owner=user, file=file)
        except ValidationError as error:
            problems[field] = error.messages
        except TooLarge as refusal:
            problems[field] = [refusal.message]
        except RateLimited as refusal:
            problems[field] = [uploads.too_many_uploads(refusal)]
            retry_after = refusal.retry_after
        else:
            url = uploads.media_url(upload)
            if field == "cover_file":
                data["cover_image"] = url
                data.pop("remove_cover", None)
            else:
                data["content"] = _with_image(data.get("content", ""), url)
    form = PostForm.for_post(post, data)
    form.is_valid()
    for field, problem in problems.items():
        form.add_error(field, problem)
    return form, retry_after


def _status_change(action: str, when: datetime | None) -> dict[str, Any]:
    """How the button pressed publishes, in posts.services' terms ("save": as it is)."""
    if action == "publish":
        return {"publish": True}
    if action == "schedule":
        return {"schedule_at": when}
    if action in ("draft", "unschedule", "unpublish"):
        return {"publish": False}
    return {}


def _save(user: User, post: Post | None, action: str, form: PostForm) -> Post:
    fields = form.text_fields()
    status = _status_change(action, form.cleaned_data["schedule_at"])
    if post is None:
        return create_post(author=user, **status, **fields)
    version = form.cleaned_data["version"]
    return update_post(post=post, editor=user, expected_version=version, **status, **fields)


def _saved_message(action: str, post: Post, was_live: bool) -> str:
    if action == "publish":
        return "Changes published." if was_live else "Your story is published."
    if action == "unpublish":
        return "Unpublished: the story is a draft again, only you can see it."
    if action == "unschedule":
        return "Unscheduled: the story is a draft again, only you can see it."
    if post.is_scheduled and post.published_at is not None:
        if action == "schedule":
            return f"Scheduled for {_when(post.published_at)}. Until then only you can see it."
        return f"Changes saved. The story is scheduled for {_when(post.published_at)}."
    return "Changes saved." if post.is_published else "Draft saved."


def _diff(saved: Post, form: PostForm) -> list[tuple[str, str]]:
    """The lines that differ between the saved title and text and the author's, with a little
    context, as a unified diff reads."""
    theirs = [f"Title: {saved.title}", "", *saved.content.splitlines()]
    mine = [f"Title: {form.data.get('title', '')}", "", *str(form.data.get("content", "")).splitlines()]
    lines = list(difflib.unified_diff(theirs, mine, lineterm="", n=2))[2:]  # without the file names
    kinds = {"@": "hunk", "+": "added", "-": "removed"}
    return [(kinds.get(line[:1], "same"), line) for line in lines[:DIFF_MAX_LINES]]


def _editor_page(
    request: HttpRequest, form: PostForm, post: Post | None, *, status: int = 200, **extra: object
) -> HttpResponse:
    context = {
        "form": form,
        "post": post,
        # The "preview" button renders the preview server-side, for browsers without JavaScript.
        "preview": render_markdown(form.current_content()),
        "cover": form.current_cover(),
        # Text on screen that the server does not have (an error, a preview, a question): leaving asks.
        "unsaved": form.is_bound,
        "upload_max_mb": settings.QUILL_UPLOAD_MAX_MB,
        "time_zone": timezone.get_current_timezone_name(),
        **extra,
    }
    return render(request, "posts/editor.html", context, status=status)


def _conflict_page(request: HttpRequest, form: PostForm, current: Post, action: str) -> HttpResponse:
    """The author's text beside the saved one, which changed since the editor opened. The form
    now carries the saved version: Keep mine (or a merge by hand) saves over it knowingly."""
    data = {**dict(form.data.items()), "version": str(current.version)}
    mine = PostForm.for_post(current, data)
    mine.is_valid()
    saved = SavedVersion(
        post=current,
        tags=", ".join(tag.name for tag in current.tags.all()),
        action=action,
        diff=_diff(current, mine),
    )
    return _editor_page(request, mine, current, status=409, conflict=saved)


def _editor(request: HttpRequest, post: Post | None) -> HttpResponse:
    user = signed_in_user(request.user)  # write is for members; edit checked the author first
    if request.method != "POST":
        return _editor_page(request, PostForm.for_post(post), post)
    form, retry_after = _bound_form(request, post, user)
    if retry_after is not None:  # nothing is saved; the text stays on screen
        response = _editor_page(request, form, post, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    if not form.is_valid():
        return _editor_page(request, form, post)
    action = form.cleaned_data["action"] or "save"
    if action == "preview":
        return _editor_page(request, form, post)
    if action == "take_theirs":
        # "story-saved" tells the page script that the copy kept on this device can go.
        messages.info(request, TAKEN_THEIRS, extra_tags="story-saved")
        return redirect("posts:edit", post.slug) if post is not None else redirect("posts:write")
    if (
        action == "unpublish"
        and not form.cleaned_data["confirmed"]
        and post
        and post.is_published_or_scheduled
    ):
        return _editor_page(request, form, post, confirm_unpublish=True)
    was_live = post is not None and post.is_published
    try:
        saved = _save(user, post, action, form)
    except ValidationError as error:
        add_refusal(form, error, field_names=EDITOR_FIELD)  # the typed text stays in the form
        return _editor_page(request, form, post)
    except StaleWrite as refusal:
        return _conflict_page(request, form, refusal.current, action)
    messages.success(request, _saved_message(action, saved, was_live), extra_tags="story-saved")
    return redirect(saved) if action == "publish" else redirect("posts:edit", saved.slug)


@allow_body_size(EDITOR_BODY_LIMIT)
@_sign_in_to_save(always=True)
def write(request: HttpRequest) -> HttpResponse:
    return _editor(request, post=None)


@allow_body_size(EDITOR_BODY_LIMIT)
@_sign_in_to_save(always=False)
def edit(request: HttpRequest, slug: str) -> HttpResponse:
    return _editor(request, post=_own_post(request, slug))


def delete(request: HttpRequest, slug: str) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST deletes."""
    post = _own_post(request, slug)
    if request.method == "POST":
        delete_post(post=post, editor=signed_in_user(request.user))
        messages.success(request, f"“{post.title}” is deleted.")
        return redirect("posts:my_posts")
    return render(request, "posts/delete.html", {"post": post})


@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The editor's live preview: the story renderer's sanitised HTML for the posted Markdown."""
    if not request.user.is_authenticated:
        raise NotAllowed("Sign in to preview a story.", thing="post")
    return HttpResponse(render_markdown(request.POST.get("content", "")))


# --- History: the author's earlier versions of a story --------------------------------------
# Only its author sees a story's history (others: 404 for a draft, 403 otherwise, as for the
# editor). A restore is a save like any other: a new version, the replaced text kept in turn.

# Changes within a replaced block of lines are counted character by character up to this
# size; past it (a rewrite), the block's lines count whole.
CHAR_DIFF_LIMIT = 4000


@dataclass(frozen=True)
class HistoryEntry:
    """One version of a story's title and text, and the change it made to the one before."""

    version: int
    title: str
    length: int
    saved_at: datetime
    saved_by: User | None
    revision: Revision | None  # None: the story as it is now
    added: int | None = None  # characters; None when the version before is no longer kept
    removed: int | None = None
    title_changed: bool = False


def _change_size(old: str, new: str) -> tuple[int, int]:
    """(characters added, characters removed) from `old` to `new`."""
    before, after = old.splitlines(keepends=True), new.splitlines(keepends=True)
    added = removed = 0
    for kind, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if kind == "equal":
            continue
        gone, came = "".join(before[i1:i2]), "".join(after[j1:j2])
        if kind == "replace" and len(gone) + len(came) <= CHAR_DIFF_LIMIT:
            chars = difflib.SequenceMatcher(None, gone, came, autojunk=False)
            for part, a1, a2, b1, b2 in chars.get_opcodes():
                removed += a2 - a1 if part in ("replace", "delete") else 0
                added += b2 - b1 if part in ("replace", "insert") else 0
        else:
            removed += len(gone)
            added += len(came)
    return added, removed


def _history(post: Post, revisions: list[Revision]) -> list[HistoryEntry]:
    """The story now, then its kept revisions, newest first, each with its change."""
    versions = [
        HistoryEntry(post.version, post.title, len(post.content), post.updated_at, post.author, None),
        *(
            HistoryEntry(rev.version, rev.title, len(rev.content), rev.saved_at, rev.saved_by, rev)
            for rev in revisions
        ),
    ]
    texts = [post.content, *(rev.content for rev in revisions)]
    entries = []
    for index, entry in enumerate(versions):
        if index + 1 < len(versions):
            before_title, before_text = versions[index + 1].title, texts[index + 1]
        elif entry.version == 1:  # the first version: everything in it was added
            before_title, before_text = entry.title, ""
        else:  # the version before is no longer kept
            entries.append(entry)
            continue
        added, removed = _change_size(before_text, texts[index])
        entries.append(
            replace(entry, added=added, removed=removed, title_changed=before_title != entry.title)
        )
    return entries


def _revision(post: Post, version: int) -> Revision:
    revision = post.revisions.select_related("saved_by").filter(version=version).first()
    if revision is None:
        raise NotFound("No such version of this story.", thing="revision")
    return revision


def history(request: HttpRequest, slug: str) -> HttpResponse:
    post = _own_post(request, slug)
    revisions = list(post.revisions.select_related("saved_by"))
    return render(request, "posts/history.html", {"post": post, "entries": _history(post, revisions)})


def history_version(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    post = _own_post(request, slug)
    revision = _revision(post, version)
    context = {"post": post, "revision": revision, "body": render_markdown(revision.content)}
    return render(request, "posts/history_version.html", context)


def restore(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST restores, unless the story
    changed since the question was asked."""
    post = _own_post(request, slug)
    revision = _revision(post, version)
    if request.method != "POST":
        return render(request, "posts/history_restore.html", {"post": post, "revision": revision})
    try:
        expected = int(request.POST.get("version", ""))
    except ValueError:
        expected = None
    try:
        restored = restore_revision(
            revision=revision, editor=signed_in_user(request.user), expected_version=expected
        )
    except StaleWrite as refusal:
        context = {"post": refusal.current, "revision": revision, "changed": True}
        return render(request, "posts/history_restore.html", context, status=409)
    messages.success(request, f"Version {version} is restored: it is now version {restored.version}.")
    return redirect("posts:edit", restored.slug)


# --- Claps, follows and responses ------------------------------------------------------------
# Every action is a plain form POST that redirects back with a message, so it works without
# JavaScript; quill.js sends the same POST with `Accept: application/json` to toggle claps and
# follows in place, and gets the new state as JSON instead of a redirect.


@dataclass(frozen=True)
class CommentEntry:
    """A response as the story page lists it: may the viewer delete it?"""

    comment: Comment
    can_delete: bool


def _wanted(request: HttpRequest, *, on: str, off: str, now: bool) -> bool:
    """The state the member asked for: the button says which (so a double submit does not
    undo itself); without it, the opposite of the current state."""
    action = request.POST.get("action")
    if action in (on, off):
        return action == on
    return not now


def _count_text(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _claps_text(count: int) -> str:
    return _count_text(count, "clap", "claps")


def _followers_text(count: int) -> str:
    return _count_text(count, "follower", "followers")


def _social(post: Post) -> "SocialPost":
    # get_post_by_slug(..., social=True) annotates the story as with_social does.
    return cast("SocialPost", post)


def _post_page(request: HttpRequest, post: Post, form: CommentForm, status: int = 200) -> HttpResponse:
    """The story with its claps, its author's follow button and its responses (oldest first):
    the same number of queries however many claps and responses it has."""
    comments = [
        CommentEntry(comment, can_delete_comment(comment=comment, user=request.user))
        for comment in comments_of(post=post, viewer=request.user)
    ]
    context = {
        "post": _social(post),
        "body": post.html,
        "can_edit": is_author(post=post, user=request.user),
        "comments": comments,
        "comment_form": form,
    }
    return render(request, "posts/detail.html", context, status=status)


@require_POST
def clap_post(request: HttpRequest, slug: str) -> HttpResponse:
    """Claps for a story, or takes the clap back."""
    back = next_url(request, reverse("posts:detail", args=[slug]))
    if not isinstance(request.user, User):
        return sign_in_first(request, back, "Sign in to clap for stories.")
    member = request.user
    post = _social(get_post_by_slug(slug=slug, user=member, social=True))
    if wanted := _wanted(request, on="clap", off="unclap", now=post.clapped):
        clap(post=post, member=member)
    else:
        unclap(post=post, member=member)

    def now_clapped() -> dict[str, Any]:
        after = _social(get_post_by_slug(slug=slug, user=member, social=True))
        return {
            "clapped": after.clapped,
            "clap_count": after.clap_count,
            "count_text": _claps_text(after.clap_count),
        }

    message = f"You clapped for “{post.title}”." if wanted else f"You took back your clap for “{post.title}”."
    return json_or_redirect(request, to=back, message=message, data=now_clapped)


@require_POST
def save_post(request: HttpRequest, slug: str) -> HttpResponse:
    """Saves a story to the member's reading list, or takes it off."""
    back = next_url(request, reverse("posts:detail", args=[slug]))
    if not isinstance(request.user, User):
        return sign_in_first(request, back, "Sign in to save stories for later.")
    member = request.user
    post = _social(get_post_by_slug(slug=slug, user=member, social=True))
    if wanted := _wanted(request, on="save", off="unsave", now=post.saved):
        bookmark(post=post, member=member)
        message = "Saved to your reading list."
    else:
        unbookmark(post=post, member=member)
        message = "Taken off your reading list."
    return json_or_redirect(request, to=back, message=message, data=lambda: {"saved": wanted})


@login_required
def saved_posts(request: HttpRequest) -> HttpResponse:
    """The member's reading list, newest saved first, 10 a page."""
    posts = reading_list(member=signed_in_user(request.user))
    page = FriendlyPaginator(posts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "posts/reading_list.html", {"page": page})


@require_POST
def follow_author(request: HttpRequest, username: str) -> HttpResponse:
    """Follows an author, or stops following them."""
    if not isinstance(request.user, User):
        back = next_url(request, reverse("posts:author", args=[username]))
        return sign_in_first(request, back, "Sign in to follow authors.")
    member = request.user
    # Suspended authors too, so that following them can be undone (following is refused).
    author = get_followed(username=username, viewer=member)
    # A suspended author has no page to go back to.
    page = reverse("posts:author", args=[author.username]) if author.is_active else reverse("posts:following")
    back = next_url(request, page)
    wanted = _wanted(request, on="follow", off="unfollow", now=author.followed_by_viewer)
    try:
        if wanted:
            account_services.follow(follower=member, followed=author)
        else:
            account_services.unfollow(follower=member, followed=author)
    except ValidationError as exc:  # following oneself
        refusal = " ".join(exc.messages)
        return json_or_redirect(
            request,
            to=back,
            message=refusal,
            data=lambda: {"error": refusal},
            status=400,
            level=messages.ERROR,
        )

    def now_following() -> dict[str, Any]:
        after = get_followed(username=author.username, viewer=member)
        return {
            "username": after.username,
            "following": after.followed_by_viewer,
            "follower_count": after.follower_count,
            "count_text": _followers_text(after.follower_count),
        }

    if wanted:
        message = f"You follow {author.display_name}: their new stories appear in Following."
    else:
        message = f"You no longer follow {author.display_name}."
    return json_or_redirect(request, to=back, message=message, data=now_following)


def comment_on_post(request: HttpRequest, slug: str) -> HttpResponse:
    """Publishes a response. A refused one shows the story again with the message beside the
    text, which is kept."""
    post_url = reverse("posts:detail", args=[slug])
    if request.method != "POST":  # e.g. going back to a page that showed an error
        return redirect(f"{post_url}#responses")
    if not isinstance(request.user, User):
        return sign_in_first(request, f"{post_url}#respond", "Sign in to respond.")
    member = request.user
    post = get_post_by_slug(slug=slug, user=member, social=True)
    form = CommentForm(request.POST)
    status, retry_after = 200, None
    if form.is_valid():
        try:
            comment = add_comment(post=post, author=member, body=form.cleaned_data["body"])
        except ValidationError as exc:
            form.add_error(None, exc)  # the errors name the body field: shown beside it
        except RateLimited as refusal:
            form.add_error(
                "body",
                f"You are responding too often. Please wait {refusal.retry_after} seconds "
                "and send it again: your text is still here.",
            )
            status, retry_after = 429, refusal.retry_after
        else:
            url = f"{post_url}#response-{comment.pk}"
            return json_or_redirect(
                request,
                to=url,
                message="Your response is published.",
                data=lambda: {"id": comment.pk, "url": url},
                status=201,
            )
    if wants_json(request):
        response: HttpResponse = json_answer(
            {"error": "Your response was not published.", "details": form.errors},
            status=429 if retry_after is not None else 400,
        )
    else:
        response = _post_page(request, post, form, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def delete_comment_page(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST deletes. Only the response's
    author, the story's author and moderators get this far; others get 403."""
    post = get_post_by_slug(slug=slug, user=request.user)
    comment = get_comment(post=post, comment_id=comment_id, viewer=request.user)
    if not can_delete_comment(comment=comment, user=request.user):
        raise NotAllowed(thing="comment")
    back = next_url(request, f"{post.get_absolute_url()}#responses")
    if request.method == "POST":
        delete_comment(comment=comment, user=signed_in_user(request.user))
        messages.success(request, "The response is deleted.")
        return redirect(back)
    return render(request, "posts/delete_comment.html", {"post": post, "comment": comment, "back": back})


@login_required
def following(request: HttpRequest) -> HttpResponse:
    """The member's feed: stories by the authors they follow, newest first. With none yet, a
    few authors to follow (those who published most recently)."""
    member = signed_in_user(request.user)
    page = _page(request, feed_posts(viewer=member))
    suggestions = [] if page.paginator.count else authors_to_follow(viewer=member)
    return render(request, "posts/following.html", {"page": page, "suggestions": suggestions})


@require_safe
def robots(request: HttpRequest) -> HttpResponse:
    """Crawlers may read everything public; the sitemap lists it."""
    lines = [
        "User-agent: *",
        *(f"Disallow: {reverse(name)}" for name in ROBOTS_DISALLOWED),
        f"Sitemap: {request.build_absolute_uri(reverse('posts:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


# Pages only a signed-in member sees, or that only answer forms.
ROBOTS_DISALLOWED = (
    "posts:write",
    "posts:my_posts",
    "posts:reading_list",
    "posts:following",
    "accounts:settings",
    "admin:index",
)


@login_required
@require_safe
def export_posts(request: HttpRequest) -> HttpResponse:
    """The member's stories as a zip of Markdown files (linked from their settings)."""
    user = signed_in_user(request.user)
    response = HttpResponse(export_archive(user=user), content_type="application/zip")
    filename = f"quill-{user.username}-{timezone.now():%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
