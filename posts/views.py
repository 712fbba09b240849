"""Reader pages, the editor and the author's own story list. Rules live in services/selectors;
their refusals (not found, not yours) become the friendly error pages (blog_project.faces)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import get_author, signed_in_user
from blog_project.exceptions import NotAllowed, NotFound
from posts.forms import PostForm, StoryFields
from posts.markdown import render_markdown
from posts.models import Post, normalize_tag
from posts.search import clean_query
from posts.selectors import get_post_by_slug, published_posts, stories_of
from posts.services import create_post, delete_post, ensure_author, is_author, update_post

PAGE_SIZE = 10

# What each editor button does to the story's status (None leaves it as it is).
PUBLISH_BY_ACTION: dict[str, bool | None] = {"draft": False, "publish": True, "unpublish": False, "": None}


def _page(request: HttpRequest, posts: QuerySet[Post]) -> Page[Post]:
    # get_page turns a missing, malformed or too-large ?page= into the nearest real page.
    return Paginator(posts, PAGE_SIZE).get_page(request.GET.get("page"))


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "posts/home.html", {"page": _page(request, published_posts())})


def detail(request: HttpRequest, slug: str) -> HttpResponse:
    post = get_post_by_slug(slug=slug, user=request.user)
    context = {
        "post": post,
        "body": render_markdown(post.content),
        "can_edit": is_author(post=post, user=request.user),
    }
    return render(request, "posts/detail.html", context)


def author(request: HttpRequest, username: str) -> HttpResponse:
    writer = get_author(username=username)
    if writer.username != username:  # /@Ada/ -> /@ada/, the one address of an author
        return redirect("posts:author", writer.username, permanent=True)
    page = _page(request, published_posts(author=writer.username))
    return render(request, "posts/author.html", {"author": writer, "page": page})


def tag(request: HttpRequest, tag: str) -> HttpResponse:
    name = normalize_tag(tag)
    if not name:
        raise NotFound("No such tag.", thing="tag")
    if name != tag:  # /tag/Web Development/ -> /tag/web-development/, the one address of a tag
        return redirect("posts:tag", name, permanent=True)
    return render(request, "posts/tag.html", {"tag": name, "page": _page(request, published_posts(tag=name))})


def search(request: HttpRequest) -> HttpResponse:
    query = clean_query(request.GET.get("q"))
    page = _page(request, published_posts(query=query)) if query else None
    return render(request, "posts/search.html", {"query": query, "page": page})


@login_required
def my_stories(request: HttpRequest) -> HttpResponse:
    stories = list(stories_of(user=signed_in_user(request.user)))
    context = {
        "drafts": [post for post in stories if not post.is_published],
        "published": [post for post in stories if post.is_published],
    }
    return render(request, "posts/my_stories.html", context)


def _own_post(request: HttpRequest, slug: str) -> Post:
    """The visitor's own story. Someone else's draft is 404, their published story 403."""
    post = get_post_by_slug(slug=slug, user=request.user)
    ensure_author(post=post, user=request.user)
    return post


def _save(user: User, post: Post | None, action: str, fields: StoryFields) -> Post:
    publish = PUBLISH_BY_ACTION[action]
    if post is None:
        return create_post(author=user, publish=bool(publish), **fields)
    return update_post(post=post, editor=user, publish=publish, **fields)


def _saved_message(action: str, post: Post, was_published: bool) -> str:
    if action == "publish":
        return "Changes published." if was_published else "Your story is published."
    if action == "unpublish":
        return "Unpublished: the story is a draft again, only you can see it."
    return "Changes saved." if post.is_published else "Draft saved."


def _editor(request: HttpRequest, post: Post | None) -> HttpResponse:
    form = PostForm.for_post(post, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid() and form.cleaned_data["action"] != "preview":
        action = form.cleaned_data["action"]
        was_published = post is not None and post.is_published
        try:
            # write is login_required; edit checked the author first.
            post = _save(signed_in_user(request.user), post, action, form.text_fields())
        except ValidationError as exc:
            form.add_error(None, exc)  # the errors name the fields; the typed text stays in the form
        else:
            # "story-saved" tells the page script that the browser's autosaved copy can go.
            message = _saved_message(action, post, was_published)
            messages.success(request, message, extra_tags="story-saved")
            return redirect(post) if action == "publish" else redirect("posts:edit", post.slug)
    # The "preview" button renders the preview server-side, for browsers without JavaScript.
    context = {"form": form, "post": post, "preview": render_markdown(form.current_content())}
    return render(request, "posts/editor.html", context)


@login_required
def write(request: HttpRequest) -> HttpResponse:
    return _editor(request, post=None)


def edit(request: HttpRequest, slug: str) -> HttpResponse:
    return _editor(request, post=_own_post(request, slug))


def delete(request: HttpRequest, slug: str) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST deletes."""
    post = _own_post(request, slug)
    if request.method == "POST":
        delete_post(post=post, editor=signed_in_user(request.user))
        messages.success(request, f"“{post.title}” is deleted.")
        return redirect("posts:my_stories")
    return render(request, "posts/delete.html", {"post": post})


@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The editor's live preview: the story renderer's sanitised HTML for the posted Markdown."""
    if not request.user.is_authenticated:
        raise NotAllowed("Sign in to preview a story.", thing="story")
    return HttpResponse(render_markdown(request.POST.get("content", "")))
