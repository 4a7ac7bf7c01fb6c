"""The shared browser pieces in headless Chromium: dom.js's link finder, and a released chat on the dashboard."""

from pathlib import Path

import pytest

from reference.models import LibrarianProfile, Queue
from tests.browser import BROWSER_MARKS, PASSWORD, claim
from widgets.models import Site

STATIC = Path(__file__).resolve().parent.parent / "widgets" / "static" / "widgets"
DOM_JS = STATIC / "dom.js"
PROTOCOL_JS = STATIC / "protocol-client.js"

pytestmark = BROWSER_MARKS
DEFAULT_VIEWPORT = {"width": 1280, "height": 720}  # Playwright's own, as browser.new_page() had it

LINKS = [
    ("See https://example.org/hours.", [("https://example.org/hours", "https://example.org/hours")]),
    ("www.perpustakaan.go.id, or http://a.b/c?d=1&e=2!", [
        ("www.perpustakaan.go.id", "https://www.perpustakaan.go.id/"), ("http://a.b/c?d=1&e=2", "http://a.b/c?d=1&e=2")]),
    ("(see https://en.wikipedia.org/wiki/Medan_(city))", [
        ("https://en.wikipedia.org/wiki/Medan_(city)", "https://en.wikipedia.org/wiki/Medan_(city)")]),
    ('"https://example.org/a"; and https://example.org/b...', [
        ("https://example.org/a", "https://example.org/a"), ("https://example.org/b", "https://example.org/b")]),
    ("mail budi@www.example.org, not a link; nor javascript:alert(1), nor http://, nor https://x", []),
    ("HTTPS://EXAMPLE.ORG/Path", [("HTTPS://EXAMPLE.ORG/Path", "https://example.org/Path")]),
]


def test_one_link_finder_for_both_pages(new_page):
    """http(s):// and www. links, trailing punctuation and an unbalanced bracket left out; text as text."""
    page = new_page(viewport=DEFAULT_VIEWPORT)
    page.set_content("<!doctype html><p id='out'></p>")
    page.add_script_tag(path=str(DOM_JS))
    for text, expected in LINKS:
        found = page.evaluate("t => RuangTanyaDOM.findLinks(t).map(l => [l.text, l.href])", text)
        assert [tuple(link) for link in found] == expected, text
    html = "<img src=x onerror=alert(1)> https://example.org/<b>"
    shown = page.evaluate("""t => {
        const out = document.getElementById('out');
        RuangTanyaDOM.appendText(out, t);
        return [out.textContent, out.querySelectorAll('img, b').length, out.querySelector('a').rel];
    }""", html)
    assert shown == [html, 0, "noopener noreferrer nofollow"]


FAKE_SOCKET = """
window.sockets = [];
window.WebSocket = class {
  constructor(url) {
    this.url = url; this.readyState = 0; this.sent = []; sockets.push(this);
    setTimeout(() => { this.readyState = 1; if (this.onopen) this.onopen(); }, 0);
  }
  send(data) { this.sent.push(JSON.parse(data)); }
  close() { this.readyState = 3; }
  receive(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
  drop(code) { this.readyState = 3; this.onclose({ code: code }); }
};
"""

CLIENT_SCRIPT = """async () => {
  const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms || 0));
  const held = { 5: 2 }, frames = [], statuses = [];
  const plugin = () => ({ frame: (f) => f.type === "rated" });
  const hook = RuangTanyaProtocol.plugins([plugin], {});
  const store = RuangTanyaProtocol.store("sessionStorage", "test.");  // about:blank: in memory
  const client = RuangTanyaProtocol.client({
    path: "/ws/test/",
    hello: () => ({ since: { "5": held[5] } }),
    have: (id) => (id in held ? held[id] : null),
    outbox: { storage: store, key: "outbox" },
    hook: hook,
    onFrame: (f, extra) => { frames.push([f.type, extra && extra.client_id || null]); },
    onStatus: (mode) => statuses.push(mode),
  });
  const out = {};
  client.enqueue({ type: "message", client_id: "a", conversation: 5, text: "one" });
  client.start();
  await tick(10);
  const s = sockets[0];
  out.url = s.url;
  out.hello = s.sent[0];
  out.sentBeforeWelcome = s.sent.length;
  out.stored = store.getJSON("outbox", []).map((e) => e.client_id);
  s.receive({ type: "welcome", v: 1, heartbeat: 20 });
  out.afterWelcome = s.sent.slice(1);
  s.receive({ type: "message", message: { conversation: 5, seq: 5 } });
  s.receive({ type: "message", message: { conversation: 5, seq: 6 } });
  out.gap = s.sent.slice(2);
  held[5] = 6;
  s.receive({ type: "messages", conversation: 5, messages: [], more: false });
  s.receive({ type: "heartbeat", last_seq: { "5": 8, "9": 3 } });
  out.heartbeat = s.sent.slice(3);
  client.enqueue({ type: "message", client_id: "b", conversation: 5, text: "two" });
  s.receive({ type: "ack", client_id: "a", conversation: 5, seq: 7, message: { conversation: 5, seq: 7 } });
  s.receive({ type: "error", code: "message_too_long", ref: "b" });
  s.receive({ type: "rated", conversation: 5 });
  out.frames = frames.slice();
  out.left = client.outbox.list().map((e) => e.client_id);
  const before = Date.now();
  s.drop(1006);
  out.ready = client.ready;
  out.delay = client.retryAt - before;
  await tick(out.delay + 50);
  const again = sockets[1];
  out.reconnected = !!again;
  out.hello2 = again && again.sent[0];
  again.receive({ type: "welcome", v: 1 });
  out.resent = again.sent.slice(1).map((f) => f.client_id);
  out.statuses = statuses;
  return out;
}"""


def test_the_protocol_client_resumes_repairs_gaps_and_keeps_its_outbox(new_page):
    """protocol-client.js on a stand-in WebSocket: hello with the resume point, the outbox re-sent after
    each welcome and emptied by acks, fetch for a gap (one at a time) and for a heartbeat ahead, backoff."""
    page = new_page(viewport=DEFAULT_VIEWPORT)
    page.set_content("<!doctype html><html lang='en'><body></body></html>")
    page.add_script_tag(content=FAKE_SOCKET)
    page.add_script_tag(path=str(PROTOCOL_JS))
    out = page.evaluate(CLIENT_SCRIPT)
    assert out["url"].endswith("/ws/test/")
    assert out["hello"] == {"type": "hello", "v": 1, "lang": "en", "since": {"5": 2}}
    assert out["sentBeforeWelcome"] == 1 and out["stored"] == ["a"]  # kept until acknowledged
    assert out["afterWelcome"] == [{"type": "message", "client_id": "a", "conversation": 5, "text": "one"}]
    assert out["gap"] == [{"type": "fetch", "conversation": 5, "after": 2}]  # not again for seq 6
    assert out["heartbeat"] == [{"type": "fetch", "conversation": 5, "after": 6}]  # 9 is not followed
    assert ["ack", "a"] in out["frames"] and ["error", "b"] in out["frames"]
    assert ["rated", None] not in out["frames"]  # a plugin handled it
    assert out["left"] == ["b"]  # the refused one stays for the page to decide
    assert out["ready"] is False and 500 <= out["delay"] <= 1000
    assert out["reconnected"] and out["hello2"]["since"] == {"5": 6}
    assert out["resent"] == ["b"]
    assert out["statuses"][:2] == ["connecting", "connected"] and "waiting" in out["statuses"]
    assert out["statuses"][-2:] == ["reconnecting", "connected"]


UNAVAILABLE_SCRIPT = """async () => {
  const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms || 0));
  const frames = [];
  const client = RuangTanyaProtocol.client({
    path: "/ws/test/", hello: () => ({}), have: () => null, outbox: {},
    onFrame: (f, extra) => { frames.push([f.type, f.code || null]); },
  });
  client.enqueue({ type: "message", client_id: "m", conversation: 5, text: "selama basis data mati" });
  client.start();
  await tick(10);
  const s = sockets[0];
  s.receive({ type: "welcome", v: 1, heartbeat: 20 });
  const sentAfterWelcome = s.sent.length;
  s.receive({ type: "error", code: "unavailable", ref: "m", retry_after: 1 });
  const out = { left: client.outbox.list().map((e) => e.client_id), sentAtOnce: s.sent.length - sentAfterWelcome };
  await tick(1150);
  out.resent = s.sent.slice(sentAfterWelcome).map((f) => f.client_id);
  s.receive({ type: "ack", client_id: "m", conversation: 5, seq: 2, message: { conversation: 5, seq: 2 } });
  out.leftAfterAck = client.outbox.list().length;
  out.frames = frames;
  return out;
}"""


def test_the_protocol_client_sends_again_after_unavailable(new_page):
    """`unavailable` (the database or Redis briefly away) is no failure for the person: the message
    stays "sending" and goes again with the same client_id after retry_after."""
    page = new_page(viewport=DEFAULT_VIEWPORT)
    page.set_content("<!doctype html><html lang='en'><body></body></html>")
    page.add_script_tag(content=FAKE_SOCKET)
    page.add_script_tag(path=str(PROTOCOL_JS))
    out = page.evaluate(UNAVAILABLE_SCRIPT)
    assert out["left"] == ["m"] and out["sentAtOnce"] == 0  # kept, and not hammered at once
    assert out["resent"] == ["m"]
    assert out["leftAfterAck"] == 0
    assert ["error", "unavailable"] not in out["frames"]  # nothing for the page to show


@pytest.mark.django_db(transaction=True)
def test_a_released_chat_leaves_my_chats_at_once(live_daphne, django_user_model, new_page, logged_in_dashboard):
    """Sent to a queue, or taken over by a colleague: gone from My chats, reply box and draft included,
    and the capacity count drops (conversation.released)."""
    from playwright.sync_api import expect

    general = Queue.objects.create(name="Umum", slug="umum")
    history = Queue.objects.create(name="Sejarah lokal", slug="sejarah")
    site = Site.objects.create(name="Perpustakaan Kota", key="released-site", default_queue=general,
                               allowed_origins="http://localhost:1")
    for username, name in (("siti", "Siti"), ("budi", "Budi")):
        user = django_user_model.objects.create_user(username, password=PASSWORD, is_staff=True)
        LibrarianProfile.objects.create(user=user, display_name=name).queues.set([general, history])
    budi_id = django_user_model.objects.get(username="budi").pk
    service = live_daphne()

    siti, budi = logged_in_dashboard(service, "siti", "Siti"), logged_in_dashboard(service, "budi", "Budi")
    patron = new_page(viewport=DEFAULT_VIEWPORT)
    patron.goto(f"{service}/widget/sites/{site.key}/chat/?lang=en")
    patron.locator("#q").fill("Do you keep old newspapers?")
    patron.locator("#start-form button[type=submit]").click()

    claim(siti, "old newspapers")
    expect(siti.locator("#chat-list .chat-entry")).to_have_count(1, timeout=15000)
    expect(siti.locator("#capacity-held")).to_have_text("1")
    siti.fill("#composer-input", "A draft that must not survive the transfer")

    # To another queue: the chat waits there again (Siti is a member), no longer hers.
    siti.click("#transfer-button")
    siti.select_option("#transfer-target", f"q:{history.pk}")
    siti.click("#transfer-send")
    expect(siti.locator("#global-alerts")).to_contain_text("Sejarah lokal", timeout=15000)
    expect(siti.locator("#chat-list .chat-entry")).to_have_count(0)
    expect(siti.locator("#capacity-held")).to_have_text("0")
    expect(siti.locator("#chat")).to_be_hidden()
    expect(siti.locator("#composer-input")).to_be_hidden()
    expect(siti.locator("#chats-empty")).to_be_visible()
    expect(siti.locator(".queue-item").filter(has_text="old newspapers")).to_have_count(1, timeout=15000)

    # Claimed again: a fresh reply box, the old draft gone.
    claim(siti, "old newspapers")
    expect(siti.locator("#chat-list .chat-entry")).to_have_count(1, timeout=15000)
    expect(siti.locator("#composer-input")).to_have_value("")
    expect(siti.locator("#capacity-held")).to_have_text("1")

    # To a colleague who accepts: gone from Siti's chats, counted in Budi's.
    siti.click("#transfer-button")
    siti.select_option("#transfer-target", f"l:{budi_id}")
    siti.click("#transfer-send")
    budi.locator(".offer").get_by_role("button", name="Accept").click(timeout=15000)
    expect(siti.locator("#global-alerts")).to_contain_text("now with Budi", timeout=15000)
    expect(siti.locator("#chat-list .chat-entry")).to_have_count(0)
    expect(siti.locator("#capacity-held")).to_have_text("0")
    expect(siti.locator("#chat")).to_be_hidden()
    expect(budi.locator("#chat-list .chat-entry")).to_have_count(1, timeout=15000)
    expect(budi.locator("#capacity-held")).to_have_text("1")

    # A reload keeps it that way (nothing left in this tab's outbox or list).
    siti.reload()
    me = siti.locator(".team-item.presence-available").filter(has_text="Siti")
    expect(me).to_have_count(1, timeout=15000)
    expect(siti.locator("#chat-list .chat-entry")).to_have_count(0)
    expect(siti.locator("#capacity-held")).to_have_text("0")
