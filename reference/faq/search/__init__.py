"""FAQ search: one service, a backend per database vendor (see docs/search.md).

    search(query, lang="id", limit=5) -> SearchResponse(query, results=[Hit...])

1. The query is analysed (analysis.py): informal spellings normalised, stop words dropped, each
   word stemmed in both languages.
2. Each word is expanded: staff synonyms (FaqSynonym) and, for a word the index does not know, the
   index terms one edit away (typo tolerance).
3. The backend (FTS5 or PostgreSQL GIN) returns candidate entries containing any expanded term.
4. One scorer, shared by both backends, ranks candidates: IDF-weighted matches, a question match
   counting more than an answer match, and how much of the entry's question the query covers.
5. Linked translations share a score; the asker's language comes first; below the threshold,
   nothing is returned.
"""

from reference.faq.search.service import Hit, SearchResponse, get_backend, rebuild_index, reindex_entry, search

__all__ = ["Hit", "SearchResponse", "get_backend", "rebuild_index", "reindex_entry", "search"]
