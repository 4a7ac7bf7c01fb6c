/* Ruang Tanya dashboard: the shared app object every dashboard module adds to.
 *
 * The dashboard speaks protocol v1 (docs/protocol.md) on /ws/librarian/ through the shared protocol
 * client (widgets/protocol-client.js). Its scripts, loaded in this order by dashboard.html, are:
 *   app.js         state, strings, elements, time and text helpers, alerts and announcements
 *   queue.js       the waiting list and claiming
 *   chat.js        the chats held: the "My chats" list, the open chat, messages, the reply box
 *   handoff.js     transfers, automatic-routing offers, released chats
 *   team.js        colleagues' presence, my status and capacity
 *   faq.js         FAQ suggestions for the open chat (widgets/faq-suggest.js)
 *   assessment.js  topics, READ scale and question type of the open chat (docs/assessment.md)
 *   alerts.js      the tab title's count, opt-in notifications and sound (docs/alerts-and-shortcuts.md)
 *   shortcuts.js   keyboard shortcuts and their help panel
 *   notes.js       internal notes on the open chat and its patron (docs/notes-and-history.md)
 *   history.js     the patron's earlier chats, one opened read-only in the chat pane
 *   duty.js        chats requeued while away; asking before leaving with chats held (docs/staying-on-duty.md)
 *   canned.js      canned replies: the "/" picker and the management dialog (docs/canned-replies.md)
 *   cover.js       a chat answered for another library: its notes, sending it back (docs/network.md)
 *   main.js        the connection: frames to the modules, welcome, errors; starts everything
 * Each module is an IIFE that takes `window.RuangTanyaDashboard` (this object) and puts its
 * functions on it (app.queue, app.chat, app.handoff, app.team). Everything people typed is inserted
 * as text (dom.js), never as HTML. Every visible string comes from the json_script strings rendered
 * by dashboard.html (id dashboard-strings-KEY), read with app.t(KEY). */
window.RuangTanyaDashboard = (function () {
  "use strict";

  var root = document.getElementById("dashboard");
  if (!root) return null;
  var D = window.RuangTanyaDOM;

  var app = { root: root, h: D.h, appendText: D.appendText };

  // ---- strings (json_script) and settings (the data- attributes of #dashboard) --------------
  var T = D.strings("dashboard-strings");
  app.t = function t(key, params) {
    return D.format(Object.prototype.hasOwnProperty.call(T, key) ? T[key] : key, params);
  };
  var config = {
    socketPath: root.dataset.wsPath, name: root.dataset.name, maxChats: root.dataset.maxChats,
    timeZone: root.dataset.timeZone
  };
  app.config = config;

  // ---- constants and state ---------------------------------------------------------------
  app.MAX_LENGTH = 4000;
  app.state = {
    me: { id: null, name: config.name || "", max_chats: parseInt(config.maxChats, 10) || 1 },
    queues: [],
    waiting: new Map(),   // id -> conversation payload (status queued; `cover` set: another library's)
    convs: new Map(),     // id -> held conversation (see chat.js newConv)
    order: [],            // ids of held conversations, in the order they were taken
    stray: new Map(),     // conversation id -> messages that arrived before their conversation
    activeId: null,
    offset: 0,            // server clock minus local clock (ms)
    pendingClaims: new Set(),
    team: new Map(),      // user id -> presence payload (docs/protocol.md, Presence)
    transferQueues: [],   // where a chat can be sent
    offers: new Map(),    // transfer id -> transfer offered to us, waiting for our answer
    assignments: new Map() // offer id -> chat automatic routing offers us
  };
  app.client = null;      // the protocol client (main.js); its outbox holds the unacknowledged messages

  app.ready = function () { return !!app.client && app.client.ready; };
  app.stopped = function () { return !!app.client && app.client.stopped(); };
  app.send = function (frame) { return !!app.client && app.client.send(frame); };

  // ---- DOM -------------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }
  app.el = {
    connBanner: $("conn-banner"), connText: $("conn-text"), connRetry: $("conn-retry"),
    connDot: $("conn-dot"), connDotText: $("conn-dot-text"),
    sessionEnded: $("session-ended"),
    globalAlerts: $("global-alerts"), queueAlerts: $("queue-alerts"), chatAlerts: $("chat-alerts"),
    waitingCount: $("waiting-count"), queueEmpty: $("queue-empty"), queueList: $("queue-list"), coverWaiting: $("cover-waiting"),
    capacity: $("capacity"), capacityHeld: $("capacity-held"), capacityMax: $("capacity-max"),
    chatsEmpty: $("chats-empty"), chatList: $("chat-list"),
    placeholder: $("chat-placeholder"), chat: $("chat"),
    chatTitle: $("chat-title"), chatMeta: $("chat-meta"), chatQuestion: $("chat-question"),
    closeButton: $("close-button"), closeConfirm: $("close-confirm"), closeYes: $("close-yes"), closeNo: $("close-no"),
    closedBanner: $("closed-banner"), closedText: $("closed-text"), dismissButton: $("dismiss-button"),
    messages: $("messages"), jumpLatest: $("jump-latest"), typing: $("typing"),
    composer: $("composer"), input: $("composer-input"), composerLabel: $("composer-label"),
    counter: $("composer-counter"), sendButton: $("send-button"),
    announcer: $("announcer"),
    myStatus: $("my-status"), teamList: $("team-list"),
    transferButton: $("transfer-button"), transferForm: $("transfer-form"), transferTarget: $("transfer-target"),
    transferLibrarians: $("transfer-librarians"), transferQueues: $("transfer-queues"),
    transferNote: $("transfer-note"), transferCancel: $("transfer-cancel"), transferPending: $("transfer-pending"),
    chatNotes: $("chat-notes"), offers: $("offers")
  };

  // ---- time ------------------------------------------------------------------------------
  app.now = function () { return Date.now() + app.state.offset; };
  app.parseTime = function (iso) {
    if (!iso) return NaN;
    // Python sends microseconds; keep milliseconds so every engine parses it.
    return Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  };
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  var clockFormat = (function () { // HH:MM in the library's time zone, whatever the computer's
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: config.timeZone };
    try { return new Intl.DateTimeFormat("en-GB", options); } catch (e) { delete options.timeZone; }
    return new Intl.DateTimeFormat("en-GB", options);
  })();
  app.clock = function (ms) { return isNaN(ms) ? "" : clockFormat.format(new Date(ms)); };
  app.duration = function (ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var hours = Math.floor(s / 3600), minutes = Math.floor((s % 3600) / 60), seconds = s % 60;
    return hours ? hours + ":" + pad(minutes) + ":" + pad(seconds) : minutes + ":" + pad(seconds);
  };
  app.isoNow = function () { return new Date(app.now()).toISOString(); };

  // ---- text ------------------------------------------------------------------------------
  app.patronName = function (conv) {
    return (conv && conv.patron && conv.patron.name) || app.t("anonymous");
  };
  app.truncate = function (text, n) {
    text = String(text || "").replace(/\s+/g, " ").trim();
    return text.length > n ? text.slice(0, n - 1) + "…" : text;
  };

  // ---- announcements and alerts ----------------------------------------------------------
  var announceTimer = null;
  app.announce = function (text) {
    clearTimeout(announceTimer);
    app.el.announcer.textContent = "";
    announceTimer = setTimeout(function () { app.el.announcer.textContent = text; }, 100);
  };

  app.showAlert = function (container, text, kind) {
    // One alert per area: the newest replaces the previous one.
    container.textContent = "";
    var box = D.h("div", "alert " + (kind === "info" ? "alert-info" : "alert-error"));
    box.setAttribute("role", "alert");
    box.appendChild(D.h("p", "alert-text", text));
    var close = D.h("button", "alert-close");
    close.type = "button";
    close.setAttribute("aria-label", app.t("dismiss"));
    close.title = app.t("dismiss");
    close.appendChild(document.createTextNode("×"));
    close.addEventListener("click", function () { container.textContent = ""; });
    box.appendChild(close);
    container.appendChild(box);
  };
  app.clearAlert = function (container) { container.textContent = ""; };

  /* What happened, for whoever listens (alerts.js): a "ruangtanya:NAME" event on #dashboard. */
  app.emit = function (name, detail) {
    root.dispatchEvent(new CustomEvent("ruangtanya:" + name, { detail: detail }));
  };

  // ---- rendering: each panel module adds its renderer; renderAll draws them all ------------
  var baseTitle = app.t("dashboard") + " · Ruang Tanya";
  app.renderTitle = function () {
    var n = app.state.waiting.size + (app.alerts ? app.alerts.unseen() : 0);   // + messages that came while hidden
    document.title = (n ? "(" + n + ") " : "") + baseTitle;
  };
  app.renderAll = function () {
    app.queue.render();
    app.chat.renderList();
    app.chat.render();
    app.renderTitle();
  };

  /* Plugins (reference/dashboard-attachments.js) are set up by main.js; until then, no hooks. */
  app.hook = function () { return false; };

  return app;
})();
