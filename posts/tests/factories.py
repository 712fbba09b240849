import factory

from accounts.tests.factories import UserFactory
from posts import services
from posts.models import Post


class PostFactory(factory.Factory):
    """Builds stories through the real service, so derived fields are computed as in production."""

    class Meta:
        model = Post

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
