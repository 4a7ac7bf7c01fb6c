/* Ruang Tanya: the duty bar of every staff page but the dashboard (transcripts, offline questions,
 * the FAQ pages, the admin), rendered by templates/reference/_staff_duty.html.
 *
 * Its socket (/ws/staff/, docs/protocol.md) counts for presence exactly like a dashboard's, so a
 * librarian who opens Transcripts from the dashboard's menu, or the admin in another tab, keeps the
 * chats they hold: those go back to the queue only when none of their staff pages is open for the
 * grace period (docs/presence.md). The bar says how they stand ("On duty · 2 chats held"), live,
 * from the `presence` frames about them, says when a chat is offered to them (a colleague's transfer,
 * automatic routing: answered on the dashboard), and links back to the dashboard. Logging out here
 * with chats held asks first, naming the count.
 *
 * The page beats in answer to each of the server's heartbeats: an event, so a background tab whose
 * timers the browser slows down still beats in time. The shared protocol client reconnects with
 * backoff. */
(function () {
  "use strict";
  var bar = document.getElementById("duty-bar");
  var P = window.RuangTanyaProtocol, D = window.RuangTanyaDOM;
  if (!bar || !P || !D) return;

  var T = D.strings("staff-duty-strings");
  function t(key, params) { return D.format(Object.prototype.hasOwnProperty.call(T, key) ? T[key] : key, params); }
  var text = document.getElementById("duty-text");
  var me = null;          // this librarian's presence (docs/protocol.md, Presence)
  var offered = new Set(); // "t<id>" (transfers) and "a<id>" (automatic routing) waiting for an answer
  var connected = false;

  function welcome(frame) {
    me = frame.librarian;
    offered = new Set();
    (frame.offers || []).forEach(function (id) { offered.add("t" + id); });
    (frame.assignments || []).forEach(function (id) { offered.add("a" + id); });
  }

  function offer(key, status) {
    if (status === "offered") offered.add(key); else offered.delete(key);
  }

  function render() {
    if (!me) return;      // hidden until the first welcome
    var status = connected ? me.presence : null;
    var words = connected ? t(status) : t("reconnecting");
    words += " · " + t(me.held === 1 ? "held_one" : "held_other", { count: me.held });
    if (offered.size) words += " · " + t(offered.size === 1 ? "offered_one" : "offered_other", { count: offered.size });
    if (text.textContent !== words) text.textContent = words;
    bar.classList.toggle("is-away", status === "away");
    bar.classList.toggle("is-offline", status === "offline");
    bar.classList.toggle("is-down", !connected);
    bar.classList.toggle("is-offered", offered.size > 0);
    bar.hidden = false;
  }

  function ended() {      // logged out elsewhere, or no longer staff: nothing to keep
    client.stop();
    bar.hidden = true;
  }

  var client = P.client({
    path: bar.dataset.wsPath,
    onFrame: function (frame) {
      if (frame.type === "welcome" && frame.librarian) welcome(frame);
      else if (frame.type === "presence" && me && frame.librarian && frame.librarian.id === me.id) me = frame.librarian;
      else if (frame.type === "transfer" && frame.transfer) offer("t" + frame.transfer.id, frame.transfer.status);
      else if (frame.type === "assignment" && frame.offer) offer("a" + frame.offer.id, frame.offer.status);
      else if (frame.type === "heartbeat") client.send({ type: "heartbeat" });
      else if (frame.type === "error" && frame.code === "not_authenticated") { ended(); return; }
      render();
    },
    onDown: function (code) { if (code === 4403) ended(); },
    onStatus: function (mode) { connected = mode === "connected"; render(); }
  });

  /* Logging out (this page's menu, or the admin's) with chats held: asked first, with the count. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!me || !me.held || !form.matches || !form.matches(".logout-form, #logout-form")) return;
    if (!window.confirm(t(me.held === 1 ? "logout_one" : "logout_other", { count: me.held }))) event.preventDefault();
  }, true);

  client.start();
})();
