"""Streamed downloads: CSV that spreadsheet programs open correctly, and a streaming response that
stays lazy under ASGI too.

Spreadsheet-safe CSV (RFC 4180 as Excel and LibreOffice read it): UTF-8 with a byte order mark (so
Excel does not read Indonesian text as Windows-1252), CRLF line ends, cells quoted when they hold a
comma, a quote or a line break, and any text cell that starts with = + - @ (or a tab or carriage
return) prefixed with an apostrophe, so that what a patron typed is never run as a formula.
"""

import csv

from django.http import StreamingHttpResponse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.http import content_disposition_header

from reference import dbthreads

BOM = "\ufeff"
FORMULA_STARTS = frozenset("=+-@\t\r")
PIECE_SIZE = 64 * 1024  # characters gathered before a piece of the body is sent


def safe_cell(value):
    """A cell's text: None is empty, numbers stay numbers, text that a spreadsheet would take for
    a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, Promise):  # a lazily translated label
        value = str(value)
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


class _Line:
    """What csv.writer writes to: it hands each formatted line back instead of storing it."""

    def write(self, line):
        return line


def csv_chunks(header, rows):
    """The CSV file as UTF-8 pieces of about PIECE_SIZE characters, the first one holding the byte
    order mark and the header. `rows` is any iterable of sequences; it is read as the pieces go."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    piece = [BOM, writer.writerow([safe_cell(cell) for cell in header])]
    yield "".join(piece).encode()
    piece, size = [], 0
    for row in rows:
        line = writer.writerow([safe_cell(cell) for cell in row])
        piece.append(line)
        size += len(line)
        if size >= PIECE_SIZE:
            yield "".join(piece).encode()
            piece, size = [], 0
    if piece:
        yield "".join(piece).encode()


class LazyStreamingResponse(StreamingHttpResponse):
    """A StreamingHttpResponse over a synchronous iterator that stays lazy under ASGI.

    Django's ASGI handler would first read a synchronous iterator to the end into a list (the whole
    file in memory). Here each piece is made when the handler asks for the next one, on the thread
    long reads have to themselves (reference.dbthreads.apart: not the consumers' database thread,
    which chat work waits for), and sent before the one after is made."""

    async def __aiter__(self):
        pieces = iter(self.streaming_content)
        next_piece = dbthreads.apart(next)
        while (piece := await next_piece(pieces, None)) is not None:
            yield piece


def _in_language(language, chunks):
    """Each piece made in `language`: the body is made after the view has returned, perhaps on
    another context, where the request's language is no longer active."""
    chunks = iter(chunks)
    while True:
        with translation.override(language):
            piece = next(chunks, None)
        if piece is None:
            return
        yield piece


def download(chunks, *, filename, content_type):
    """A streamed attachment named `filename` (the browser saves it instead of showing it), made in
    the language active now."""
    response = LazyStreamingResponse(_in_language(translation.get_language(), chunks), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Cache-Control"] = "no-store"  # transcripts and figures are not for shared caches
    return response


def csv_response(filename, header, rows):
    """Stream a table as a spreadsheet-safe CSV download (see this module's docstring).

    filename: what the browser saves it as, e.g. "volume-2026-01-01-2026-01-31.csv".
    header: the column titles (already translated). rows: an iterable of sequences, one per row,
    read lazily while the response is sent (a generator keeps memory flat); cells may be text,
    numbers or None (an empty cell). Text starting with = + - @ is prefixed with an apostrophe."""
    return download(csv_chunks(header, rows), filename=filename, content_type="text/csv; charset=utf-8")
