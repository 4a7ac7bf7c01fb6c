#!/usr/bin/env python
"""Widget weight and politeness on a host page: what a library's visitors pay for the chat.

A measurement, not a test. It starts its own daphne on a throw-away SQLite database, serves a
library page on another origin that embeds the widget (`async`, as the embed code says), and drives
Debian's chromium with Playwright. It prints:

* the loader's size (`/widget.js`), raw and gzipped (target: under 5 KB gzipped);
* every request the host page makes because of the widget before the launcher is opened
  (target: the loader and its settings only);
* every request made when the launcher is opened, and the gzipped total of our own code among
  them: the panel's HTML, CSS and JavaScript, plus the loader and its settings (target: under
  40 KB gzipped);
* the host page's cumulative layout shift (CLS, from a PerformanceObserver for `layout-shift`
  entries) after the launcher appears, after the invitation bubble, and after the panel opens and
  closes (target: 0);
* the host page's first contentful paint, with and without the widget (the script must not block it).

Sizes are gzip level 6 of the bytes served (what a typical reverse proxy sends); the service itself
does not compress. Run from the repository root:

    .venv/bin/python bench/widget_size.py [--chromium /usr/bin/chromium]
"""

import argparse
import functools
import gzip
import http.server
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.request import urlopen

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import daphne_command, free_port, wait_for_port  # noqa: E402

LOADER_LIMIT, OPENED_LIMIT = 5 * 1024, 40 * 1024

CLS_OBSERVER = """
window.__cls = 0;
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
}).observe({type: "layout-shift", buffered: true});
"""
FCP = """() => new Promise(done => new PerformanceObserver(list => {
  const fcp = list.getEntriesByName("first-contentful-paint")[0];
  if (fcp) done(fcp.startTime);
}).observe({type: "paint", buffered: true}))"""


def gz(data):
    return len(gzip.compress(data, compresslevel=6))


def set_up_database(path):
    """A queue and a widget site (with the invitation after 1 s) in a fresh SQLite file."""
    os.environ["SQLITE_PATH"] = str(path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from reference.models import Queue
    from widgets.models import Site

    call_command("migrate", verbosity=0)
    queue = Queue.objects.create(name="Umum", slug="umum")
    return Site.objects.create(name="Perpustakaan Kota", key="bench-widget", default_queue=queue, invite_after=1)


def host_page(folder, service, site_key, with_widget=True):
    """A plausible library page: text, an image box, a footer; the widget's tag before </body>."""
    tag = f'<script src="{service}/widget.js" data-site="{site_key}" data-lang="id" async></script>'
    name = "with.html" if with_widget else "without.html"
    (Path(folder) / name).write_text(
        '<!doctype html><html lang="id"><head><meta charset="utf-8"><title>Perpustakaan Kota</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body style="margin:0;font:16px sans-serif">'
        '<header style="background:#234;color:#fff;padding:20px"><h1>Perpustakaan Kota Tebing Tinggi</h1></header>'
        '<main style="padding:20px">' + "<p>Jam buka Senin–Sabtu 08.00–16.00. Koleksi buku, koran, dan arsip.</p>" * 30
        + '<div style="height:300px;background:#ddd">gambar</div></main>'
        f'<footer style="padding:20px">Jl. Sudirman 1</footer>{tag if with_widget else ""}</body></html>')
    return name


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="widget-size-")
    site = set_up_database(Path(work) / "bench.sqlite3")
    port = free_port()
    service = f"http://127.0.0.1:{port}"
    daphne = subprocess.Popen(
        daphne_command(port),
        cwd=REPO, env={**os.environ, "SQLITE_PATH": os.environ["SQLITE_PATH"], "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    handler_class = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    handler = functools.partial(handler_class, directory=work)
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    host = f"http://localhost:{pages.server_address[1]}"
    site.allowed_origins = host
    site.save()
    try:
        wait_for_port(port, daphne, "daphne")
        measure(args.chromium, service, host, host_page(work, service, site.key),
                host_page(work, service, site.key, with_widget=False))
    finally:
        daphne.terminate()
        daphne.wait(10)
        pages.shutdown()


def measure(chromium, service, host, with_widget, without_widget):
    from playwright.sync_api import sync_playwright

    loader = urlopen(f"{service}/widget.js").read()
    print(f"loader /widget.js: {len(loader):,} bytes, {gz(loader):,} gzipped "
          f"({'under' if gz(loader) < LOADER_LIMIT else 'OVER'} the 5 KB target)")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            for _warm_up in range(2):  # the browser's first page pays for its start-up
                plain = browser.new_page()
                plain.goto(f"{host}/{without_widget}")
                fcp_without = plain.evaluate(FCP)
                plain.close()

            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.add_init_script(CLS_OBSERVER)
            page = context.new_page()
            seen = []  # (phase, url, resource type, body)
            phase = ["before opening"]

            def record(response):
                if response.url.startswith(host):
                    return  # the library's own page
                try:
                    body = response.body()
                except Exception:
                    body = b""
                seen.append((phase[0], response.url, response.request.resource_type, body))

            page.on("response", record)
            page.goto(f"{host}/{with_widget}")
            fcp_with = page.evaluate(FCP)
            page.wait_for_selector("#ruangtanya-widget button.l")
            page.wait_for_load_state("networkidle")
            cls_launcher = page.evaluate("window.__cls")
            page.wait_for_selector("#ruangtanya-widget .i")  # the invitation bubble
            cls_invite = page.evaluate("window.__cls")

            phase[0] = "opening"
            page.locator("#ruangtanya-widget button.l").click()
            frame = page.frame_locator("#ruangtanya-widget iframe")
            frame.locator("#q").wait_for()
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1000)  # the socket's welcome, any late request
            page.locator("#ruangtanya-widget button.l").click()
            page.wait_for_timeout(300)
            cls_open = page.evaluate("window.__cls")
        finally:
            browser.close()

    before = [s for s in seen if s[0] == "before opening"]
    opening = [s for s in seen if s[0] == "opening"]
    print(f"\nrequests before the launcher is opened: {len(before)}")
    for _phase, url, kind, body in before:
        print(f"  {kind:<10} {url.replace(service, '')}  {gz(body):,} B gzipped")
    print(f"requests when it is opened: {len(opening)}")
    for _phase, url, kind, body in opening:
        print(f"  {kind:<10} {url.replace(service, '')}  {len(body):,} B, {gz(body):,} B gzipped")
    own = sum(gz(body) for _phase, url, _kind, body in seen if url.startswith(service))
    print(f"\nopened widget, our own code in total (loader, settings, panel HTML/CSS/JS): {own:,} B gzipped "
          f"({'under' if own < OPENED_LIMIT else 'OVER'} the 40 KB target)")
    print(f"\nhost page layout shift (CLS): {cls_launcher:.4f} with the launcher, {cls_invite:.4f} after the "
          f"invitation, {cls_open:.4f} after opening and closing the panel (target 0)")
    print(f"host page first contentful paint: {fcp_with:.0f} ms with the widget, {fcp_without:.0f} ms without")


if __name__ == "__main__":
    main()
