"""Every model of Quill's own apps says which of the readers' cache scopes its writes change
(faces.readcache.declare, from each app's cache.py), "none" included: a model added
without a declaration would let readers see a stale page after its writes."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from faces import readcache


def quills_apps() -> list[str]:
    """The apps whose code is in this repository (not Django's, not installed packages')."""
    return [
        config.label for config in apps.get_app_configs() if Path(config.path).parent == settings.BASE_DIR
    ]


def test_quills_apps_are_found():
    assert {"accounts", "posts"} <= set(quills_apps())


@pytest.mark.parametrize(
    "model", [model for label in quills_apps() for model in apps.get_app_config(label).get_models()],
    ids=lambda model: model._meta.label,
)  # fmt: skip
def test_every_model_declares_what_its_writes_change_for_readers(model):
    assert readcache.declared(model), (
        f"{model._meta.label} has no readers' cache declaration: add it to its app's cache.py "
        "(readcache.nothing if readers never see its rows)"
    )
