"""{% url %} and get_absolute_url remember what they reversed, and still answer as reverse()."""

import pytest
from django.template import engines
from django.urls import NoReverseMatch, reverse, set_script_prefix

from posts.models import Post, Tag


def render(text: str, **context: object) -> str:
    return engines["django"].from_string(text).render(context)


def test_the_url_tag_answers_as_reverse_every_time():
    template = "{% url 'posts:detail' slug %} {% url 'posts:author' username=name %}"
    detail = reverse("posts:detail", args=["a-slug"])
    expected = f"{detail} {reverse('posts:author', kwargs={'username': 'ada'})}"
    for _ in range(2):  # the second time from memory
        assert render(template, slug="a-slug", name="ada") == expected
    assert render("{% url 'posts:tag' name as link %}[{{ link }}]", name="birds") == "[/tag/birds/]"
    assert render("{% url 'posts:nothing' as link %}[{{ link }}]") == "[]"
    with pytest.raises(NoReverseMatch):
        render("{% url 'posts:nothing' %}")


def test_what_is_remembered_follows_the_script_prefix():
    post, tag = Post(slug="moved"), Tag(name="birds")
    assert post.get_absolute_url() == "/p/moved/" and tag.get_absolute_url() == "/tag/birds/"
    set_script_prefix("/blog/")  # Quill served under a sub-path
    try:
        assert post.get_absolute_url() == "/blog/p/moved/"
        assert render("{% url 'posts:detail' 'moved' %}") == "/blog/p/moved/"
    finally:
        set_script_prefix("/")
