from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from posts.selectors import published_posts

PAGE_SIZE = 10


def home(request: HttpRequest) -> HttpResponse:
    page = Paginator(published_posts(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "posts/home.html", {"page": page})
