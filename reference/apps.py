from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete
from django.utils.translation import gettext_lazy as _


class ReferenceConfig(AppConfig):
    name = "reference"
    verbose_name = _("Reference chat")

    def ready(self):
        from reference import converters  # noqa: F401  (registers <id:…> before the URLconfs load)
        from reference.attachments import delete_file_with_its_row
        from reference.dbthreads import keep_connection

        post_delete.connect(delete_file_with_its_row, sender="reference.Attachment",
                            dispatch_uid="attachment-file-follows-its-row")
        user_logged_out.connect(close_sockets_of_session, dispatch_uid="logout-closes-staff-sockets")
        # The long-lived database threads keep their connection; others close theirs (docs/deployment.md).
        connection_created.connect(keep_connection, dispatch_uid="long-lived-threads-keep-their-connection")


def close_sockets_of_session(sender, request, user, **kwargs):
    from reference.events import end_session

    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        end_session(session_key)
