"""FAQ search: one service, a backend per database vendor (see docs/search.md).

    search(query, lang="id", limit=5) -> SearchResponse(query, results=[Hit...], words=[...])

1. The query is analysed (analysis.py): informal spellings normalised, stop words dropped, each
   word stemmed in both languages.
2. Each word is expanded (expansion.py): staff synonyms (FaqSynonym) and, for a word the index
   does not know, the index terms one edit away (typo tolerance).
3. The backend (sqlite.py: FTS5, postgres.py: GIN; the interface in base.py, the choice by the
   connection's vendor in backends.py) returns candidate entries containing any expanded term.
4. One scorer (scoring.py), shared by both backends, ranks candidates: IDF-weighted matches, a
   question match counting more than an answer match, and how much of the entry's question the
   query covers.
5. Linked translations share a score; the asker's language comes first; below the threshold,
   nothing is returned (service.py, which runs the steps).

search() only reads. A caller that wants a search that found nothing on the staff list calls
reference.faq.services.record_miss(). The index follows every change through indexing.py
(reindex_entry, rebuild_index).
"""

from reference.faq.search.backends import get_backend
from reference.faq.search.indexing import rebuild_index, reindex_entry
from reference.faq.search.service import Hit, SearchResponse, search

__all__ = ["Hit", "SearchResponse", "get_backend", "rebuild_index", "reindex_entry", "search"]
