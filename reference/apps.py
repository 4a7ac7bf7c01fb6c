from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferenceConfig(AppConfig):
    name = "reference"
    verbose_name = _("Reference chat")

    def ready(self):
        from reference import converters  # noqa: F401  (registers <id:…> before the URLconfs load)
