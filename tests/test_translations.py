"""Indonesian is the default language and stays complete: every string people read is translated.

Three checks on the repository as it is: the committed catalogues have no empty or fuzzy entry;
a fresh `makemessages` over the code finds no string the catalogues lack; and every string key
the widget's and the dashboard's JavaScript ask for is rendered, translated, by their template.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
SOURCES = ["chatserver", "reference", "widgets", "templates", "locale", "manage.py"]
DOMAINS = ["django", "djangojs"]
TO_COMPLETE = ["id"]  # English is the source language: an empty English msgstr shows the msgid


def parse_po(path):
    """The live entries of a .po file: [{"msgid", "msgstrs", "fuzzy", "line"}] (header left out)."""
    entries, entry, field = [], None, None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if entry is not None and not line:
                entries.append(entry)
                entry, field = None, None
            continue
        if entry is None:
            entry = {"msgid": "", "msgstrs": {}, "fuzzy": False, "line": number, "context": ""}
        if line.startswith("#,"):
            entry["fuzzy"] = entry["fuzzy"] or "fuzzy" in line
        elif line.startswith("#"):
            continue
        else:
            keyword, _space, rest = line.partition(" ")
            if keyword.startswith('"'):
                rest, keyword = line, field
            else:
                field = keyword
            value = _unquote(rest)
            if keyword == "msgid":
                entry["msgid"] += value
            elif keyword == "msgctxt":
                entry["context"] += value
            elif keyword.startswith("msgstr"):
                entry["msgstrs"][keyword] = entry["msgstrs"].get(keyword, "") + value
    if entry is not None:
        entries.append(entry)
    return [e for e in entries if e["msgid"]]


def _unquote(text):
    return text[1:-1].encode("raw_unicode_escape").decode("unicode_escape") if text.startswith('"') else ""


def catalogues(base):
    for language in TO_COMPLETE:
        for domain in DOMAINS:
            path = base / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
            if path.exists():
                yield language, domain, path


def incomplete(path):
    return [f"{path.name}:{e['line']}: {e['msgid']!r}" + (" (fuzzy)" if e["fuzzy"] else " (empty)")
            for e in parse_po(path)
            if e["fuzzy"] or not all(e["msgstrs"].values()) or not e["msgstrs"]]


def test_the_po_parser_sees_empty_fuzzy_and_plural_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: id\\n"\n\n'
                  'msgid "Done"\nmsgstr "Selesai"\n\n'
                  '#, fuzzy\nmsgid "Close"\nmsgstr "Tutup"\n\n'
                  'msgid ""\n"Two "\n"lines"\nmsgstr ""\n\n'
                  'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "satu"\nmsgstr[1] ""\n\n'
                  '#~ msgid "Old"\n#~ msgstr ""\n', encoding="utf-8")
    assert [e["msgid"] for e in parse_po(po)] == ["Done", "Close", "Two lines", "one"]
    problems = incomplete(po)
    assert len(problems) == 3
    assert "'Close' (fuzzy)" in problems[0] and "'Two lines' (empty)" in problems[1] and "'one'" in problems[2]


def test_the_committed_catalogues_have_no_empty_or_fuzzy_entry():
    found = list(catalogues(ROOT))
    assert ("id", "django") in [(language, domain) for language, domain, _path in found]
    problems = [problem for _language, _domain, path in found for problem in incomplete(path)]
    assert not problems, "untranslated entries (run `make messages` and translate them):\n" + "\n".join(problems)


GETTEXT = bool(shutil.which("xgettext") and shutil.which("msgmerge"))
if not GETTEXT and os.environ.get("CI") == "true":
    raise RuntimeError("CI needs GNU gettext for the translation check (.ci/run installs it)")


@pytest.mark.skipif(not GETTEXT, reason="GNU gettext is not installed (apt-get install gettext)")
def test_makemessages_finds_no_string_missing_from_the_catalogues(tmp_path):
    """Run `makemessages` on a copy of the code: any new, untranslated or fuzzy-merged string fails."""
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy2(source, tmp_path / name)
    for domain in DOMAINS:
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-d", domain, *[f"-l{code}" for code in TO_COMPLETE],
             "--no-obsolete", "--no-location"],
            cwd=tmp_path, check=True, capture_output=True, env={"PATH": "/usr/bin:/bin", "SQLITE_PATH": ":memory:"},
        )
    problems = [problem for _language, _domain, path in catalogues(tmp_path) for problem in incomplete(path)]
    assert not problems, ("strings in the code without a translation (run `make messages` and translate them):\n"
                          + "\n".join(problems))


def _keys(pattern, path):
    return set(re.findall(pattern, path.read_text(encoding="utf-8")))


def _rendered_strings(page):
    """The strings a page renders for its scripts: {container: {key: value}} from the json_script
    blocks with the id `<container>-<key>` (container ending in `-strings`, as dom.js strings() reads them)."""
    import json

    blocks = {}
    for container, key, body in re.findall(
            r'<script id="([\w-]+-strings)-(\w+)" type="application/json">(.*?)</script>', page, re.S):
        blocks.setdefault(container, {})[key] = json.loads(body)
    return blocks


def _checked_scripts(folder, blocks):
    """Each script in `folder` that reads `S.key` names its strings container once (strings("x-strings"));
    every key it reads is rendered there, not empty. Returns how many scripts were checked."""
    checked = 0
    for script in sorted(folder.glob("*.js")):
        used = _keys(r"\bS\.([A-Za-z]\w*)", script)
        if not used:
            continue
        source = re.search(r"""\bstrings\(\s*["']([\w-]+-strings)["']""", script.read_text(encoding="utf-8"))
        assert source, f"{script.name} reads S.key but no *-strings block"
        strings = blocks[source.group(1)]
        assert sorted(used - set(strings)) == [], script.name
        assert [key for key in used if isinstance(strings[key], str) and not strings[key].strip()] == []
        checked += 1
    return checked


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["id", "en"])
def test_every_string_the_widget_script_shows_is_rendered_translated(site, language):
    """Each widget script reads its strings (`S.key`) from one block of json_script strings the panel renders."""
    page = Client().get(f"/widget/sites/{site.key}/chat/?lang={language}").content.decode()
    assert '<script type="application/json"' not in page, "strings and settings reach the page with json_script"
    checked = _checked_scripts(ROOT / "widgets" / "static" / "widgets", _rendered_strings(page))
    assert checked >= 4, "the widget's scripts read their strings as S.key"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["id", "en"])
def test_every_string_the_dashboard_script_shows_is_rendered_translated(librarian, language):
    client = Client()
    client.force_login(librarian)
    with translation.override(language):
        page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert '<script type="application/json"' not in page, "strings and settings reach the page with json_script"
    blocks = _rendered_strings(page)
    used_anywhere = set()
    for script in (ROOT / "reference" / "static" / "reference" / "dashboard").glob("*.js"):
        # app.t reads "dashboard-strings"; a module with its own t() reads the one block it names.
        source = script.read_text(encoding="utf-8")
        own = re.search(r"""\bstrings\(\s*["']([\w-]+-strings)["']""", source) if "function t(" in source else None
        container = own.group(1) if own else "dashboard-strings"
        used = _keys(r"""(?<![.\w])t\(\s*["'](\w+)["']\s*[,)]""", script)
        from_app = _keys(r"""\bapp\.t\(\s*["'](\w+)["']\s*[,)]""", script)
        used_anywhere |= used | from_app
        for keys, block in [(used, container), (from_app, "dashboard-strings")]:
            assert sorted(keys - set(blocks[block])) == [], script.name
            assert [key for key in keys if not str(blocks[block][key]).strip()] == [], script.name
    assert used_anywhere, "the dashboard's modules read their strings as t(\"key\")"
    # The plugins and the FAQ suggestions the dashboard loads read theirs as S.key, like the widget's.
    assert _checked_scripts(ROOT / "reference" / "static" / "reference", blocks) >= 1
    faq = ROOT / "widgets" / "static" / "widgets" / "faq-suggest.js"
    assert sorted(_keys(r"\bS\.([A-Za-z]\w*)", faq) - set(blocks["faq-strings"])) == []
