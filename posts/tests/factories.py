from typing import TYPE_CHECKING

import factory

from accounts.tests.factories import UserFactory
from posts import services
from posts.models import Post


class PostFactory(factory.Factory[Post]):
    """Builds stories through the real service, so derived fields are computed as in production."""

    class Meta:
        model = Post

    if TYPE_CHECKING:
        # PostFactory(...) is PostFactory.create(...): its metaclass makes a Post, which
        # factory_boy's annotations (and mypy, for metaclasses) do not say.
        def __new__(cls, *args: object, **kwargs: object) -> Post: ...  # type: ignore[misc]

    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Story number {n}")
    content = factory.Faker("paragraph", nb_sentences=8)
    tags = factory.LazyFunction(list)
    publish = True

    @classmethod
    def _create(cls, model_class, *, author, title, content, tags, publish):
        return services.create_post(author=author, title=title, content=content, tags=tags, publish=publish)

    @classmethod
    def _build(cls, model_class, *, author, title, content, tags, publish):
        return model_class(author=author, title=title, content=content)
