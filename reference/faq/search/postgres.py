"""PostgreSQL full-text search: a GIN index over the weighted tsvector of the analysed terms.

The analysed fields already hold stemmed, normalised terms (the same analysis the SQLite backend
indexes), so the `simple` configuration is used: it only lower-cases and splits. Running the
`indonesian` or `english` snowball configuration on top would stem a second time and make the two
backends disagree.
"""

from reference.faq.search.base import SearchBackend

VECTOR_SQL = ("(setweight(to_tsvector('simple'::regconfig, search_question), 'A') || "
              "setweight(to_tsvector('simple'::regconfig, search_answer), 'B'))")
CREATE_SQL = (f"CREATE INDEX IF NOT EXISTS faq_search_gin ON reference_faqentry USING GIN ({VECTOR_SQL}) "
              "WHERE status = 'published'")
DROP_SQL = "DROP INDEX IF EXISTS faq_search_gin"


class PostgresBackend(SearchBackend):
    vendor = "postgresql"

    def candidates(self, terms, limit):
        if not terms:
            return []
        tsquery = " | ".join("'" + t.replace("'", "") + "'" for t in terms)
        with self.connection.cursor() as c:
            c.execute(
                f"SELECT id FROM reference_faqentry WHERE status = 'published' "
                f"AND {VECTOR_SQL} @@ to_tsquery('simple', %s) "
                f"ORDER BY ts_rank({VECTOR_SQL}, to_tsquery('simple', %s), 1) DESC LIMIT %s",
                [tsquery, tsquery, limit])
            return [row[0] for row in c.fetchall()]
