"""PostgreSQL full-text search: a stored, weighted tsvector of the analysed terms with a GIN index.

The analysed fields already hold stemmed, normalised terms (the same analysis the SQLite backend
indexes), so the `simple` configuration is used: it only lower-cases and splits. Running the
`indonesian` or `english` snowball configuration on top would stem a second time and make the two
backends disagree.

`search_vector` is a generated column with a partial GIN index (migration 0010, which replaced the
expression index of 0008; both migrations carry their own SQL): PostgreSQL keeps it in step with
the analysed fields, and ts_rank() reads it instead of recomputing to_tsvector() for every match.
It is not a model field: only this backend reads it, and SQLite has no such column.
"""

from reference.faq.search.base import SearchBackend


class PostgresBackend(SearchBackend):
    vendor = "postgresql"

    def document_frequencies(self, terms):
        # One array parameter: with a few hundred terms (the candidates' question words, typo
        # variants) an `IN (…)` list of parameters makes the planner scan the whole vocabulary
        # (docs/search.md).
        if not terms:
            return {}
        with self.connection.cursor() as c:
            c.execute("SELECT term, df FROM reference_faqterm WHERE term = ANY(%s)", [terms])
            return dict(c.fetchall())

    def candidates(self, terms, limit, rank_budget, library_id=None):
        if not terms:
            return []
        tsquery = " | ".join("'" + t.replace("'", "").replace("\\", "") + "'" for t in terms)
        where, params = "", [tsquery]
        if library_id is not None:
            where, params = " AND library_id = %s", [tsquery, library_id]
        # ts_rank() on at most rank_budget matches of the library, the most recently added, as on SQLite.
        with self.connection.cursor() as c:
            c.execute(
                "SELECT id FROM (SELECT id, ts_rank(search_vector, q, 1) AS rank "
                "FROM reference_faqentry, to_tsquery('simple', %s) AS q "
                f"WHERE status = 'published' AND search_vector @@ q{where} ORDER BY id DESC LIMIT %s) AS matches "
                "ORDER BY rank DESC, id LIMIT %s",
                [*params, rank_budget, limit])
            return [row[0] for row in c.fetchall()]
