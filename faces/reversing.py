"""reverse() and the {% url %} tag, remembering what they reversed.

A list page reverses the same few routes for each of its cards (the story, its author, each
tag), and Django's reverse() walks the URL patterns every time: about 60 µs each, the largest
item of GET / and /following/ in the profiles. The tag is added to the template builtins
(settings.TEMPLATES), so templates keep writing {% url %}; models' get_absolute_url use
remembered_reverse.
"""

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.template import Context, Library, Node
from django.template.base import Parser, Token
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = Library()


@lru_cache(maxsize=8192)
def _reversed(
    view_name: str,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
    current_app: str | None,
    urlconf: str | None,
    prefix: str,
    root_urlconf: str,
) -> str:
    # urlconf, prefix and root_urlconf are part of the key: reverse() reads them itself.
    return reverse(view_name, urlconf=urlconf, args=args, kwargs=dict(kwargs), current_app=current_app)


def remembered_reverse(
    view_name: str,
    args: tuple[Any, ...] = (),
    kwargs: tuple[tuple[str, Any], ...] = (),
    current_app: str | None = None,
) -> str:
    """reverse(), remembered for the same arguments (hashable ones: a TypeError otherwise)."""
    where = (get_urlconf(), get_script_prefix(), settings.ROOT_URLCONF)
    return _reversed(view_name, args, kwargs, current_app, *where)


class RememberedURLNode(URLNode):
    def render(self, context: Context) -> str:
        args = tuple(arg.resolve(context) for arg in self.args)
        kwargs = tuple(sorted((name, value.resolve(context)) for name, value in self.kwargs.items()))
        view_name = self.view_name.resolve(context)
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None and request is not None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        url = ""
        try:
            url = remembered_reverse(view_name, args, kwargs, current_app)
        except TypeError:  # an argument that cannot be a key: reverse it every time
            url = reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: Parser, token: Token) -> Node:
    node = django_url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
