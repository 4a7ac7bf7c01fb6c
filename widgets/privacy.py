"""What the widget tells a patron about their data (UU PDP 27/2022): what the library keeps, for how
long, and how to ask for a copy or for its deletion.

The periods come from the site's library (reference.models.Library, the `*_retention_days` fields
that reference.retention applies), so the notice follows the library's settings; an empty period
means the library deletes by hand. Texts are built in the active language.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reference.prechat import FieldMode


@dataclass(frozen=True)
class Notice:
    intro: str  # the site's own notice, else the standard one
    periods: list  # [(what, how long)], in the order shown
    after: str  # what happens once a period is over ("" when nothing is removed by itself)
    rights: str  # how to ask for a copy or for deletion

    @property
    def text(self):
        """The whole notice as plain text, paragraphs separated by a blank line."""
        periods = _("How long the library keeps it:") + " " + "; ".join(
            f"{what}: {how_long}" for what, how_long in self.periods) + "."
        return "\n\n".join(part for part in [self.intro, periods, self.after, self.rights] if part)


def period(days):
    """“30 days”, or “until the library deletes them” for a period left empty."""
    if days is None:
        return _("until the library deletes them")
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


def notice(site):
    """The privacy notice under the site's pre-chat form."""
    from widgets.models import DEFAULT_PRIVACY_NOTICE

    library = site.library
    periods = [(_("Chats"), library.retention_days)]
    if site.age_group_field != FieldMode.HIDDEN:  # only then is a chat marked as a child's
        periods.append((_("Chats of patrons under 18"), library.child_retention_days))
    periods += [
        (_("Questions left while nobody was on duty, and their answers"), library.offline_retention_days),
        (_("Files sent in a chat"), library.attachment_retention_days),
        (_("Rating comments and survey answers"), library.feedback_retention_days),
    ]
    after = (_("Then your details and what was written are removed; only figures without names remain.")
             if any(days is not None for _what, days in periods) else "")
    return Notice(intro=site.privacy_notice.strip() or str(DEFAULT_PRIVACY_NOTICE),
                  periods=[(what, period(days)) for what, days in periods], after=after, rights=rights(library))


def rights(library):
    """How a patron asks for a copy of their data or for its deletion."""
    listed = library.contact_list
    if not listed:
        return _("To get a copy of your data or to have it deleted, ask a librarian in the chat.")
    return _("To get a copy of your data or to have it deleted, ask a librarian in the chat or contact the "
             "library: %(contacts)s.") % {"contacts": ", ".join(listed)}


def parent_notice(site):
    """Shown when a patron says they are under 18: for a parent or guardian to read first."""
    days = site.library.child_retention_days
    if days is None:
        return _("If you are under 18, ask a parent or guardian to read this first: the library keeps this chat "
                 "and the details you give until a librarian deletes them. A parent or guardian may ask a "
                 "librarian to delete them at any time.")
    return _("If you are under 18, ask a parent or guardian to read this first: the library keeps this chat and "
             "the details you give for %(period)s, then removes them. A parent or guardian may ask a librarian "
             "to delete them sooner.") % {"period": period(days)}
