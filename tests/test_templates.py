"""Template hygiene a page's reader would notice."""

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_no_comment_spans_lines():
    """Django's {# … #} ends at the end of its line: one that goes on shows its text on the page
    (it once pushed the dashboard's chat pane aside). Longer comments use {% comment %}."""
    open_ended = [f"{path.relative_to(TEMPLATES)}:{number}"
                  for path in TEMPLATES.rglob("*.html")
                  for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                  if "{#" in line and "#}" not in line.split("{#", 1)[1]]
    assert open_ended == []


def test_the_dashboard_shows_no_template_source(client, librarian):
    client.force_login(librarian)
    page = client.get("/dashboard/").content.decode()
    assert "{#" not in page and "#}" not in page and "{%" not in page
