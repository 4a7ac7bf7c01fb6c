"""The backend for a database connection, chosen from its vendor (as Wagtail's database search
backend does): one interface (base.SearchBackend), one class per vendor. Every other module of the
package asks here and never looks at the vendor itself."""

from django.db import connection

from reference.faq.search.postgres import PostgresBackend
from reference.faq.search.sqlite import SqliteBackend

BACKENDS = {backend.vendor: backend for backend in (SqliteBackend, PostgresBackend)}


def get_backend(conn=None):
    """The search backend of `conn` (the default database when not given)."""
    conn = conn or connection
    backend = BACKENDS.get(conn.vendor)
    if backend is None:
        raise RuntimeError(f"FAQ search has no backend for {conn.vendor}")
    return backend(conn)
