"""What the reference desk reads of a widget site."""

from widgets.models import Site


def desk_settings(site_key):
    """The active site with this public key, as the desk's plain SiteSettings; None when there is none."""
    site = Site.objects.filter(key=site_key, is_active=True).first()
    return site.desk_settings() if site is not None else None
