"""Staff transcript search by words, with the FAQ search's analysis (reference.faq.search.analysis):
stems ("pinjam" finds "meminjam"), informal spellings ("minjem" finds "pinjam"), both languages.

Each message keeps its text's analysed terms in `Message.search_terms`, set when it is stored
(reference.messaging), emptied with its text (reference.anonymise) and rebuilt by
`manage.py index_transcripts`. A chat matches when every query word has one of its forms among the
terms of any of its messages. The conversation's subject needs no terms of its own: it is the
opening of the first message (lifecycle.do_start), whose terms hold its words.
"""

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q

from reference.faq.search import analysis
from reference.models import Message


def terms_for(text):
    """The terms of a message text, as stored: the union of its Indonesian and English analysis
    (patrons mix the two), each once, space-separated with a space at each end so that a term is
    matched whole. Empty when the text has no word to search for."""
    terms = set(analysis.analyse(text, "id")) | set(analysis.analyse(text, "en"))
    return f" {' '.join(sorted(terms))} " if terms else ""


def query_words(query):
    """The query's words to look for, each with its forms; empty when it has none (only
    punctuation or very common words)."""
    return [forms for _word, forms in analysis.analyse_query(query)]


def matching_conversations(query):
    """A filter (Q) on Conversation: chats whose messages hold every query word in one of its
    forms. A query without words to look for matches nothing."""
    words = query_words(query)
    if not words:
        return Q(pk__in=[])
    match = Q()
    for forms in words:
        holds_a_form = Q()
        for form in sorted(forms):
            holds_a_form |= Q(search_terms__contains=f" {form} ")
        match &= Exists(Message.objects.filter(holds_a_form, conversation=OuterRef("pk")))
    return match


def reindex(batch=1000, model=Message):
    """Set every message's terms from its text as the analysis reads it now, one batch of messages
    per transaction. Returns (messages read, messages whose terms changed). Each batch is read
    under lock, so a message anonymised meanwhile cannot get its old terms back. `model`: a data
    migration passes its historical Message."""
    read = changed = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(model.objects.select_for_update().filter(pk__gt=last_pk).order_by("pk")
                        .only("pk", "text", "search_terms")[:batch])
            stale = [m for m in rows if _refreshed(m)]
            model.objects.bulk_update(stale, ["search_terms"])
        if not rows:
            break
        read, changed, last_pk = read + len(rows), changed + len(stale), rows[-1].pk
    if changed:
        _refresh_statistics(model)
    return read, changed


def _refresh_statistics(model):
    """Let the query planner see the new terms at once. PostgreSQL's statistics from before a
    backfill say almost no message holds a term, and its plan for a common word then compares every
    chat with every matching message (minutes on a year of chats instead of a second)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _refreshed(message):
    """Give `message` its current terms; whether they changed."""
    terms = terms_for(message.text)
    if terms == message.search_terms:
        return False
    message.search_terms = terms
    return True
