"""PostgreSQL only: the FAQ search vector becomes a stored generated column with its own GIN index,
so ranking reads it instead of recomputing to_tsvector() per match (docs/search.md, Latency).
SQLite keeps its FTS5 table; nothing changes there."""

from django.db import migrations

VECTOR = ("setweight(to_tsvector('simple'::regconfig, search_question), 'A') || "
          "setweight(to_tsvector('simple'::regconfig, search_answer), 'B')")
FORWARD = [
    f"ALTER TABLE reference_faqentry ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED",
    "CREATE INDEX faq_search_vector_gin ON reference_faqentry USING GIN (search_vector) "
    "WHERE status = 'published'",
    "DROP INDEX IF EXISTS faq_search_gin",
]
BACKWARD = [
    f"CREATE INDEX IF NOT EXISTS faq_search_gin ON reference_faqentry USING GIN (({VECTOR})) "
    "WHERE status = 'published'",
    "DROP INDEX IF EXISTS faq_search_vector_gin",
    "ALTER TABLE reference_faqentry DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("reference", "0009_attachments_rating")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
