/* Ruang Tanya: the librarian dashboard.
 *
 * Speaks protocol v1 (docs/protocol.md) on /ws/librarian/. Plain JS, no build step.
 * Everything people typed is inserted as text (textContent / text nodes), never as HTML.
 * Every visible string comes from the json_script strings rendered by dashboard.html.
 */
(function () {
  "use strict";

  var root = document.getElementById("dashboard");
  if (!root) return;

  // ---- strings ---------------------------------------------------------------------------
  var T = {};
  document.querySelectorAll("#dashboard-strings script[type='application/json']").forEach(function (el) {
    try { T[el.id.replace(/^t-/, "")] = JSON.parse(el.textContent); } catch (e) { /* keep going */ }
  });
  function t(key, params) {
    var text = Object.prototype.hasOwnProperty.call(T, key) ? T[key] : key;
    if (params) {
      text = text.replace(/\{(\w+)\}/g, function (match, name) {
        return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : match;
      });
    }
    return text;
  }

  // ---- constants and state ---------------------------------------------------------------
  var MAX_LENGTH = 4000;
  var COUNTER_FROM = 3600;          // show the character counter near the limit
  var TYPING_RESEND_MS = 3000;      // typing active:true at most this often
  var TYPING_IDLE_MS = 4000;        // typing active:false after this long without input
  var TYPING_SHOW_MS = 6000;        // hide the patron's "is typing" after this long without news
  var HEARTBEAT_MS = 25000;         // ping when the socket has been quiet this long
  var HEARTBEAT_TIMEOUT_MS = 15000; // ... and give it up if no pong comes back in time
  var WELCOME_TIMEOUT_MS = 15000;   // an open socket that never says welcome is given up too
  var BACKOFF_MIN_MS = 1000, BACKOFF_MAX_MS = 30000;
  var OUTBOX_KEY = "ruangtanya.dashboard.outbox";
  var LANG = document.documentElement.lang || "id";

  var state = {
    me: { id: null, name: root.dataset.name || "", max_chats: parseInt(root.dataset.maxChats, 10) || 1 },
    queues: [],
    waiting: new Map(),   // id -> conversation payload (status queued)
    convs: new Map(),     // id -> held conversation (see newConv)
    order: [],            // ids of held conversations, in the order they were taken
    stray: new Map(),     // conversation id -> messages that arrived before their conversation
    activeId: null,
    offset: 0,            // server clock minus local clock (ms)
    outbox: new Map(),    // client_id -> {client_id, conversation, text, created, status, error}
    ready: false,         // a welcome arrived on the current socket
    everConnected: false,
    pendingClaims: new Set(),
    team: new Map(),      // user id -> presence payload (docs/protocol.md, Presence)
    transferQueues: [],   // where a chat can be sent
    offers: new Map(),    // transfer id -> transfer offered to us, waiting for our answer
    assignments: new Map() // offer id -> chat automatic routing offers us
  };
  var BEAT_MS = 20000;    // the dashboard's own heartbeat: proof the librarian is really here
  var beatAt = 0;

  var ws = null;
  var attempt = 0;
  var retryAt = 0;
  var retryTimer = null;
  var stopped = false;
  var markers = [];        // one per ping sent: pongs come back in order, answering them
  var lastFrameAt = 0;
  var openedAt = 0;
  var baseTitle = t("dashboard") + " · Ruang Tanya";

  // ---- DOM -------------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }
  var el = {
    connBanner: $("conn-banner"), connText: $("conn-text"), connRetry: $("conn-retry"),
    connDot: $("conn-dot"), connDotText: $("conn-dot-text"),
    sessionEnded: $("session-ended"),
    globalAlerts: $("global-alerts"), queueAlerts: $("queue-alerts"), chatAlerts: $("chat-alerts"),
    waitingCount: $("waiting-count"), queueEmpty: $("queue-empty"), queueList: $("queue-list"),
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

  function h(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // ---- time ------------------------------------------------------------------------------
  function now() { return Date.now() + state.offset; }
  function parseTime(iso) {
    if (!iso) return NaN;
    // Python sends microseconds; keep milliseconds so every engine parses it.
    return Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  var clockFormat = (function () { // HH:MM in the library's time zone, whatever the computer's
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: root.dataset.timeZone };
    try { return new Intl.DateTimeFormat("en-GB", options); } catch (e) { delete options.timeZone; }
    return new Intl.DateTimeFormat("en-GB", options);
  })();
  function clock(ms) { return isNaN(ms) ? "" : clockFormat.format(new Date(ms)); }
  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var hours = Math.floor(s / 3600), minutes = Math.floor((s % 3600) / 60), seconds = s % 60;
    return hours ? hours + ":" + pad(minutes) + ":" + pad(seconds) : minutes + ":" + pad(seconds);
  }
  function isoNow() { return new Date(now()).toISOString(); }

  // ---- helpers ---------------------------------------------------------------------------
  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }
  function patronName(conv) {
    return (conv && conv.patron && conv.patron.name) || t("anonymous");
  }
  function truncate(text, n) {
    text = String(text || "").replace(/\s+/g, " ").trim();
    return text.length > n ? text.slice(0, n - 1) + "…" : text;
  }

  /* Append `text` to `parent` as text nodes, with http(s) URLs as safe anchors (DOM APIs only). */
  var URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  function appendLinkified(parent, text) {
    text = String(text || "");
    var last = 0, match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var url = match[0];
      // Leave trailing punctuation (and an unbalanced closing bracket) outside the link.
      var trail = /[.,;:!?'")\]}]+$/.exec(url);
      if (trail) {
        var cut = trail[0];
        if (cut.charAt(0) === ")" && url.indexOf("(") !== -1) cut = cut.slice(1);
        url = url.slice(0, url.length - cut.length);
      }
      var start = match.index;
      var safe = null;
      try {
        var parsed = new URL(url);
        if (parsed.protocol === "http:" || parsed.protocol === "https:") safe = parsed.href;
      } catch (e) { safe = null; }
      if (!safe) continue;
      if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
      var a = document.createElement("a");
      a.href = safe;
      a.target = "_blank";
      a.rel = "noopener noreferrer nofollow";
      a.textContent = url;
      parent.appendChild(a);
      last = start + url.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---- announcements and alerts ----------------------------------------------------------
  var announceTimer = null;
  function announce(text) {
    clearTimeout(announceTimer);
    el.announcer.textContent = "";
    announceTimer = setTimeout(function () { el.announcer.textContent = text; }, 100);
  }

  function showAlert(container, text, kind) {
    // One alert per area: the newest replaces the previous one.
    container.textContent = "";
    var box = h("div", "alert " + (kind === "info" ? "alert-info" : "alert-error"));
    box.setAttribute("role", "alert");
    box.appendChild(h("p", "alert-text", text));
    var close = h("button", "alert-close");
    close.type = "button";
    close.setAttribute("aria-label", t("dismiss"));
    close.title = t("dismiss");
    close.appendChild(document.createTextNode("×"));
    close.addEventListener("click", function () { container.textContent = ""; });
    box.appendChild(close);
    container.appendChild(box);
  }
  function clearAlert(container) { container.textContent = ""; }

  // ---- outbox (kept in sessionStorage so a reload retries too) ----------------------------
  function saveOutbox() {
    try {
      var items = [];
      state.outbox.forEach(function (item) {
        if (item.status === "sending") {
          items.push({ client_id: item.client_id, conversation: item.conversation, text: item.text, created: item.created,
                       attachment: item.attachment, file: item.file });
        }
      });
      sessionStorage.setItem(OUTBOX_KEY, JSON.stringify(items));
    } catch (e) { /* private mode: memory only */ }
  }
  function loadOutbox() {
    try {
      var items = JSON.parse(sessionStorage.getItem(OUTBOX_KEY) || "[]");
      items.forEach(function (item) {
        if (item && typeof item.client_id === "string" && typeof item.conversation === "number" && typeof item.text === "string") {
          item.status = "sending";
          state.outbox.set(item.client_id, item);
        }
      });
    } catch (e) { /* ignore */ }
  }
  function outboxFor(id) {
    var items = [];
    state.outbox.forEach(function (item) { if (item.conversation === id) items.push(item); });
    items.sort(function (a, b) { return a.created - b.created; });
    return items;
  }

  // ---- socket ----------------------------------------------------------------------------
  function wsUrl() {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + (root.dataset.wsPath || "/ws/librarian/");
  }

  function send(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /* A ping after a request: the server answers frames in order, so when its pong comes back,
   * every answer to the request (an error, if any) has arrived before it. */
  function mark(kind, id) {
    var marker = { kind: kind, id: id, error: null, sent: Date.now() };
    if (send({ type: "ping" })) markers.push(marker);
    return marker;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (stopped) return;
    if (ws) return;
    renderConnection(state.everConnected ? "reconnecting" : "connecting");
    var sock;
    try {
      sock = new WebSocket(wsUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.onopen = function () {
      if (ws !== sock) return;
      lastFrameAt = openedAt = Date.now();
      send({ type: "hello", v: 1, lang: LANG, since: resumePoints() });
    };
    sock.onmessage = function (event) {
      if (ws !== sock) return;
      lastFrameAt = Date.now();
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") handle(frame);
    };
    sock.onclose = function (event) {
      if (ws !== sock) return;
      lostSocket(event.code);
    };
    sock.onerror = function () { /* a close follows */ };
  }

  /* For each chat still open here, the last seq we hold without a gap: the welcome brings the rest. */
  function resumePoints() {
    var since = {};
    state.convs.forEach(function (conv) { if (conv.status !== "closed") since[conv.id] = conv.have; });
    return since;
  }

  function dropSocket() {
    // A socket that went quiet (sleep, network change): give it up without waiting for TCP.
    var sock = ws;
    if (!sock) return;
    ws = null;
    try { sock.close(); } catch (e) { /* ignore */ }
    lostSocket(1006);
  }

  function lostSocket(code) {
    ws = null;
    state.ready = false;
    markers = [];
    state.pendingClaims.clear();
    state.convs.forEach(function (conv) {
      conv.fetching = false;
      conv.typingOut.active = false;
      clearTimeout(conv.typingOut.idle);
    });
    if (code === 4403 || stopped) { sessionEnded(); return; }
    if (code === 4400) { stop(t("reload")); return; }
    scheduleReconnect();
    renderAll();
  }

  function scheduleReconnect() {
    if (stopped) return;
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, Math.min(attempt, 10)));
    var delay = Math.round(base * (0.7 + 0.3 * Math.random()));   // jitter, never above the cap
    attempt += 1;
    retryAt = Date.now() + delay;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
    renderConnection("waiting");
  }

  function reconnectNow() {
    if (stopped || ws) return;
    clearTimeout(retryTimer);
    connect();
  }

  function sessionEnded() {
    stopped = true;
    clearTimeout(retryTimer);
    el.sessionEnded.hidden = false;
    renderConnection("ended");
    renderAll();
  }

  function stop(message) {
    stopped = true;
    clearTimeout(retryTimer);
    if (ws) { var sock = ws; ws = null; try { sock.close(); } catch (e) { /* ignore */ } }
    showAlert(el.globalAlerts, message);
    renderConnection("ended");
    renderAll();
  }

  // ---- frames ----------------------------------------------------------------------------
  function handle(frame) {
    switch (frame.type) {
      case "welcome": onWelcome(frame); break;
      case "queue.added": onQueueAdded(frame.conversation); break;
      case "queue.removed": onQueueRemoved(frame.conversation); break;
      case "conversation": onConversation(frame.conversation); break;
      case "message": onMessage(frame.message, true); break;
      case "typing": onTyping(frame); break;
      case "ack": onAck(frame); break;
      case "pong": onPong(); break;
      case "messages": onMessages(frame); break;
      case "heartbeat": onHeartbeat(frame); break;
      case "read": onRead(frame); break;
      case "presence": onPresence(frame.librarian); break;
      case "conversation.released": onReleased(frame); break;
      case "transfer": onTransfer(frame.transfer); break;
      case "assignment": onAssignment(frame.offer); break;
      case "error": onError(frame); break;
      default: break;   // unknown types are ignored (later protocol versions)
    }
  }

  function onWelcome(frame) {
    var serverTime = parseTime(frame.server_time);
    if (!isNaN(serverTime)) state.offset = serverTime - Date.now();
    if (frame.librarian) {
      state.me.id = frame.librarian.id;
      state.me.name = frame.librarian.name || state.me.name;
      state.me.max_chats = frame.librarian.max_chats || state.me.max_chats;
    }
    state.queues = Array.isArray(frame.queues) ? frame.queues : [];
    if (frame.librarian && frame.librarian.status) el.myStatus.value = frame.librarian.status;
    state.team.clear();
    (frame.colleagues || []).forEach(function (p) { if (p && typeof p.id === "number") state.team.set(p.id, p); });
    beatAt = Date.now();
    renderTeam();
    state.transferQueues = Array.isArray(frame.transfer_queues) ? frame.transfer_queues : [];
    state.offers.clear();
    (frame.offers || []).forEach(function (offer) { state.offers.set(offer.id, offer); });
    state.assignments.clear();
    (frame.assignments || []).forEach(function (offer) { state.assignments.set(offer.id, offer); });
    renderOffers();
    state.ready = true;
    state.everConnected = true;
    attempt = 0;
    state.stray.clear();
    clearAlert(el.globalAlerts);

    // The waiting list is rebuilt from scratch.
    state.waiting.clear();
    (frame.waiting || []).forEach(function (c) { if (c && c.status !== "closed") state.waiting.set(c.id, c); });

    // Held conversations: merge into what we have (drafts, unread counts and scroll stay).
    var held = new Set();
    (frame.conversations || []).forEach(function (c) {
      if (!c || typeof c.id !== "number") return;
      held.add(c.id);
      var conv = state.convs.get(c.id);
      var fresh = !conv;
      if (fresh) conv = addConv(c);
      mergeConv(conv, c, !fresh);
    });
    // Ones we had that the server no longer lists as ours have ended while we were away.
    state.convs.forEach(function (conv) {
      if (!held.has(conv.id) && conv.status !== "closed") {
        conv.status = "closed";
        if (conv.closing) conv.closed_by = "librarian";
        conv.closed_at = conv.closed_at || isoNow();
        onClosed(conv);
      }
      conv.closing = false;   // a close that did not go through can be asked again
    });

    // Re-send what was never acknowledged, with the same client_id (the server dedupes).
    state.outbox.forEach(function (item) {
      if (item.status !== "sending") return;
      var conv = state.convs.get(item.conversation);
      if (conv && conv.status === "active") {
        send(messageFrame(item));
      } else {
        item.status = "failed";
        item.error = t("reason_closed");
      }
    });
    saveOutbox();

    if (state.activeId === null && state.order.length) selectConv(state.order[0], false);
    renderConnection("connected");
    renderAll();
  }

  function onQueueAdded(c) {
    if (!c || typeof c.id !== "number" || c.status === "closed") return;
    if (state.convs.has(c.id) && state.convs.get(c.id).status !== "queued") return;
    var isNew = !state.waiting.has(c.id);
    state.waiting.set(c.id, Object.assign({}, state.waiting.get(c.id) || {}, c));
    if (isNew) announce(t("announce_waiting", { name: patronName(c), question: truncate(c.question, 140) }));
    renderQueue();
  }

  function onQueueRemoved(id) {
    if (state.waiting.delete(id)) renderQueue();
  }

  function onConversation(c) {
    if (!c || typeof c.id !== "number") return;
    var conv = state.convs.get(c.id);
    if (!conv) {
      if (c.status === "queued") {
        if (state.waiting.has(c.id)) { state.waiting.set(c.id, mergePayload(state.waiting.get(c.id), c)); renderQueue(); }
        return;
      }
      if (c.status === "closed") {
        if (state.waiting.delete(c.id)) renderQueue();
        return;
      }
      // Active and sent to us: claimed here or in another of our tabs.
      conv = addConv(c);
      mergeConv(conv, c, false);
      state.waiting.delete(c.id);
      if (state.pendingClaims.has(c.id)) {
        state.pendingClaims.delete(c.id);
        selectConv(c.id, true);
        announce(t("announce_opened", { name: patronName(conv) }));
      } else if (state.activeId === null) {
        selectConv(c.id, false);
      }
      renderAll();
      return;
    }
    var wasClosed = conv.status === "closed";
    mergeConv(conv, c, true);
    state.waiting.delete(c.id);
    state.pendingClaims.delete(c.id);
    if (!wasClosed && conv.status === "closed") onClosed(conv);
    renderAll();
  }

  function onClosed(conv) {
    conv.closing = false;
    conv.typingIn.active = false;
    clearTimeout(conv.typingIn.timer);
    conv.typingOut.active = false;
    clearTimeout(conv.typingOut.idle);
    conv.confirming = false;
    if (conv.closed_by === "patron") announce(t("announce_closed", { name: patronName(conv) }));
  }

  function onMessage(m, live) {
    if (!m || typeof m.conversation !== "number" || typeof m.seq !== "number") return;
    var conv = state.convs.get(m.conversation);
    if (!conv) {
      // It can come just before the conversation frame of a claim: keep it for then.
      var list = state.stray.get(m.conversation) || [];
      list.push(m);
      state.stray.set(m.conversation, list);
      return;
    }
    if (addMessage(conv, m, live)) {
      renderConv(conv);
      renderTyping();
    }
    repair(conv, m.seq);
  }

  /* The channel layer may lose a frame; the database has it. Ask for what is missing up to `upTo`,
     one request per conversation at a time. */
  function repair(conv, upTo) {
    if (conv.fetching || !state.ready || conv.have >= upTo) return;
    conv.fetching = send({ type: "fetch", conversation: conv.id, after: conv.have });
  }

  function onMessages(frame) {
    var conv = state.convs.get(frame.conversation);
    if (!conv) return;
    conv.fetching = false;
    (frame.messages || []).forEach(function (m) { addMessage(conv, m, true); });
    renderConv(conv);
    if (frame.more) repair(conv, conv.have + 1);
  }

  function onPresence(p) {
    if (!p || typeof p.id !== "number") return;
    state.team.set(p.id, p);
    if (p.id === state.me.id && p.status) el.myStatus.value = p.status;
    if (p.id === state.me.id && p.capacity) { state.me.max_chats = p.capacity; renderChatList(); }
    renderTeam();
  }

  function onReleased(frame) {
    var conv = state.convs.get(frame.conversation);
    if (!conv) return;
    var text = frame.reason === "transferred" ? t("transferred", { name: patronName(conv), to: frame.to || "" })
      : t("released", { name: patronName(conv) });
    showAlert(el.globalAlerts, text);
    announce(text);
    dismissConv(conv.id);
  }

  // ---- handoff ---------------------------------------------------------------------------
  function onTransfer(tr) {
    if (!tr || typeof tr.id !== "number") return;
    if (tr.to_id === state.me.id) {
      if (tr.status === "offered") {
        if (!state.offers.has(tr.id)) announce(t("offer", { from: tr.from, name: tr.patron || t("anonymous"), question: truncate(tr.question, 140) }));
        state.offers.set(tr.id, tr);
      } else {
        state.offers.delete(tr.id);
      }
      renderOffers();
    }
    if (tr.from_id === state.me.id) {
      var conv = state.convs.get(tr.conversation);
      if (!conv) return;
      conv.transferOut = tr.status === "offered" ? tr : null;
      if (tr.status === "declined" || tr.status === "expired") {
        var text = t("transfer_" + tr.status, { name: tr.to || "" });
        if (conv.id === state.activeId) showAlert(el.chatAlerts, text); else showAlert(el.globalAlerts, text);
        announce(text);
      }
      renderChat();
    }
  }

  function onAssignment(offer) {
    if (!offer || typeof offer.id !== "number") return;
    if (offer.status === "offered") {
      if (!state.assignments.has(offer.id)) {
        var c = offer.conversation || {};
        announce(t("assignment", { name: patronName(c), question: truncate(c.question, 140) }));
      }
      state.assignments.set(offer.id, offer);
    } else {
      state.assignments.delete(offer.id);
    }
    renderOffers();
  }

  function secondsLeft(tr) {
    return Math.max(0, Math.round((parseTime(tr.expires_at) - now()) / 1000));
  }

  function renderOffers() {
    el.offers.textContent = "";
    state.assignments.forEach(function (offer) {
      if (secondsLeft(offer) <= 0) { state.assignments.delete(offer.id); return; }
      var c = offer.conversation;
      var li = h("li", "offer");
      li.appendChild(h("p", "offer-text", t("assignment", { name: patronName(c), question: truncate(c.question, 140) })));
      var actions = h("p", "offer-actions");
      var yes = h("button", "button primary", t("accept"));
      yes.type = "button";
      yes.addEventListener("click", function () { claim(c.id); });
      var no = h("button", "button", t("decline"));
      no.type = "button";
      no.addEventListener("click", function () { send({ type: "assignment.decline", offer: offer.id }); });
      actions.appendChild(yes);
      actions.appendChild(no);
      actions.appendChild(h("span", "offer-time", t("seconds_left", { seconds: secondsLeft(offer) })));
      li.appendChild(actions);
      el.offers.appendChild(li);
    });
    state.offers.forEach(function (tr) {
      if (secondsLeft(tr) <= 0) { state.offers.delete(tr.id); return; }
      var li = h("li", "offer");
      li.appendChild(h("p", "offer-text", t("offer", { from: tr.from, name: tr.patron || t("anonymous"), question: truncate(tr.question, 140) })));
      if (tr.note) li.appendChild(h("p", "offer-note", t("offer_note", { note: tr.note })));
      var actions = h("p", "offer-actions");
      var yes = h("button", "button primary", t("accept"));
      yes.type = "button";
      yes.addEventListener("click", function () {
        state.answering = tr.id;
        state.pendingClaims.add(tr.conversation);   // open it when it arrives
        send({ type: "transfer.accept", transfer: tr.id });
      });
      var no = h("button", "button", t("decline"));
      no.type = "button";
      no.addEventListener("click", function () { state.answering = tr.id; send({ type: "transfer.decline", transfer: tr.id }); });
      actions.appendChild(yes);
      actions.appendChild(no);
      actions.appendChild(h("span", "offer-time", t("seconds_left", { seconds: secondsLeft(tr) })));
      li.appendChild(actions);
      el.offers.appendChild(li);
    });
  }
  function tickOffers() {
    var all = Array.from(state.assignments.values()).concat(Array.from(state.offers.values()));
    el.offers.querySelectorAll(".offer-time").forEach(function (span, index) {
      if (all[index]) span.textContent = t("seconds_left", { seconds: secondsLeft(all[index]) });
    });
    if (all.some(function (offer) { return secondsLeft(offer) <= 0; })) renderOffers();
  }

  function openTransfer() {
    var conv = state.convs.get(state.activeId);
    if (!conv) return;
    el.transferLibrarians.textContent = "";
    state.team.forEach(function (p) {
      if (p.id === state.me.id || p.presence !== "available" || p.held >= p.capacity) return;
      var option = h("option", "", p.name + " · " + t("load", { held: p.held, capacity: p.capacity }));
      option.value = "l:" + p.id;
      el.transferLibrarians.appendChild(option);
    });
    if (!el.transferLibrarians.children.length) {
      var none = h("option", "", t("nobody_available"));
      none.disabled = true;
      el.transferLibrarians.appendChild(none);
    }
    el.transferQueues.textContent = "";
    state.transferQueues.forEach(function (q) {
      if (conv.queue && q.id === conv.queue.id) return;
      var option = h("option", "", q.name);
      option.value = "q:" + q.id;
      el.transferQueues.appendChild(option);
    });
    var first = el.transferTarget.querySelector("option:not([disabled])");
    if (first) el.transferTarget.value = first.value;
    el.transferForm.hidden = false;
    el.transferButton.setAttribute("aria-expanded", "true");
    el.transferTarget.focus();
  }
  function closeTransfer(refocus) {
    el.transferForm.hidden = true;
    el.transferButton.setAttribute("aria-expanded", "false");
    if (refocus) el.transferButton.focus();
  }
  function submitTransfer() {
    var conv = state.convs.get(state.activeId);
    var target = el.transferTarget.value || "";
    if (!conv || !target) return;
    var frame = { type: "transfer", conversation: conv.id, note: el.transferNote.value.trim() };
    frame[target.charAt(0) === "l" ? "to_librarian" : "to_queue"] = Number(target.slice(2));
    if (send(frame)) {
      el.transferNote.value = "";
      closeTransfer(false);
    }
  }

  function renderNotes(conv) {
    var notes = (conv.transfers || []).filter(function (tr) { return tr.note; });
    el.chatNotes.hidden = !notes.length;
    el.chatNotes.textContent = "";
    notes.forEach(function (tr) {
      el.chatNotes.appendChild(h("li", "chat-note", t("note_line", { from: tr.from, to: tr.to || tr.to_queue || "", note: tr.note })));
    });
    var out = conv.transferOut;
    el.transferPending.hidden = !out;
    el.transferPending.textContent = out ? t("transfer_waiting", { name: out.to || "" }) : "";
    el.transferButton.hidden = conv.status !== "active" || !!out;
  }

  function renderTeam() {
    var people = Array.from(state.team.values()).sort(function (a, b) {
      var rank = { available: 0, away: 1, offline: 2 };
      return (rank[a.presence] - rank[b.presence]) || a.name.localeCompare(b.name);
    });
    el.teamList.textContent = "";
    people.forEach(function (p) {
      var li = h("li", "team-item presence-" + p.presence);
      li.appendChild(h("span", "presence-dot"));
      li.appendChild(h("span", "team-name", p.name + (p.id === state.me.id ? " " + t("you") : "")));
      var detail = t("presence_" + p.presence);
      if (p.presence !== "offline") detail += " · " + t("load", { held: p.held, capacity: p.capacity });
      li.appendChild(h("span", "team-detail", detail));
      el.teamList.appendChild(li);
    });
  }

  function onHeartbeat(frame) {
    var last = frame.last_seq || {};
    Object.keys(last).forEach(function (id) {
      var conv = state.convs.get(Number(id));
      if (conv && typeof last[id] === "number") repair(conv, last[id]);
    });
  }

  function onRead(frame) {
    var conv = state.convs.get(frame.conversation);
    if (!conv || typeof frame.seq !== "number") return;
    if (frame.role === "patron") {
      conv.read.patron = Math.max(conv.read.patron || 0, frame.seq);
      renderConv(conv);
    } else if (frame.role === "librarian") {   // read in another of our tabs
      conv.readSent = Math.max(conv.readSent, frame.seq);
      if (conv.readSent >= conv.have && conv.unread) { conv.unread = 0; renderChatList(); }
    }
  }

  /* Tell the patron what we have seen: the open chat, in a visible tab. */
  function reportRead(conv) {
    if (!state.ready || document.hidden || conv.id !== state.activeId || conv.have <= conv.readSent) return;
    if (send({ type: "read", conversation: conv.id, seq: conv.have })) conv.readSent = conv.have;
  }

  function onTyping(frame) {
    if (frame.role !== "patron") return;   // our own typing from another tab is not news
    var conv = state.convs.get(frame.conversation);
    if (!conv || conv.status === "closed") return;
    clearTimeout(conv.typingIn.timer);
    conv.typingIn.active = !!frame.active;
    if (frame.author) conv.typingIn.name = frame.author;
    if (conv.typingIn.active) {
      conv.typingIn.timer = setTimeout(function () { conv.typingIn.active = false; renderTyping(); renderChatList(); }, TYPING_SHOW_MS);
    }
    renderTyping();
    renderChatList();
  }

  /* Stored: the ack carries the message as the patron sees it (this socket gets no copy). */
  function onAck(frame) {
    state.outbox.delete(frame.client_id);
    saveOutbox();
    onMessage(frame.message, false);
  }

  function onPong() {
    var marker = markers.shift();
    if (!marker) return;
    if (marker.kind === "close") {
      var conv = state.convs.get(marker.id);
      if (!conv) return;
      if (marker.error && marker.error.code !== "conversation_closed") {
        conv.closing = false;
        renderAll();
        return;
      }
      // The close went through (no error came before the pong). Should the closed frame not
      // reach us, we still show the chat as closed.
      if (conv.status !== "closed") {
        conv.status = "closed";
        conv.closed_by = marker.error ? conv.closed_by : "librarian";
        conv.closed_at = conv.closed_at || isoNow();
        onClosed(conv);
        renderAll();
      }
    }
  }

  function onError(frame) {
    var code = frame.code || "";
    var text = frame.message || t("unknown_error");
    var ref = frame.ref;

    if (code === "not_authenticated") { sessionEnded(); return; }
    if (code === "unsupported_version") { stop(frame.message || t("reload")); return; }

    // An error about one of our messages: ref is its client_id.
    if (typeof ref === "string" && state.outbox.has(ref)) {
      var item = state.outbox.get(ref);
      item.status = "failed";
      item.error = text;
      saveOutbox();
      var conv = state.convs.get(item.conversation);
      if (conv) {
        if (code === "conversation_closed" && conv.status !== "closed") {
          conv.status = "closed";
          conv.closed_at = conv.closed_at || isoNow();
          onClosed(conv);
        }
        renderAll();
        if (conv.id === state.activeId) showAlert(el.chatAlerts, text);
        else showAlert(el.globalAlerts, text);
      }
      return;
    }

    if (ref === "typing" || ref === "ping" || ref === "read") return;   // nothing a person needs to act on
    if (ref === "transfer") { showAlert(el.chatAlerts, text); return; }
    if (ref === "assignment.decline") { showAlert(el.globalAlerts, text); return; }
    if (ref === "transfer.accept" || ref === "transfer.decline") {
      state.pendingClaims.clear();
      if (code === "offer_expired" || code === "not_found") state.offers.delete(state.answering);   // it is gone
      renderOffers();
      showAlert(el.globalAlerts, text);
      return;
    }
    if (ref === "fetch") {   // asked about a chat we no longer see: stop asking
      state.convs.forEach(function (conv) { conv.fetching = false; });
      return;
    }

    if (ref === "claim") {
      var marker = firstMarker("claim");
      var id = marker ? marker.id : null;
      if (marker) marker.error = frame;
      if (id !== null) {
        state.pendingClaims.delete(id);
        if (code === "already_claimed" || code === "conversation_closed" || code === "not_found" || code === "not_member") {
          state.waiting.delete(id);   // a queue.removed comes too; do not wait for it
        }
      }
      showAlert(el.queueAlerts, text);
      renderQueue();
      return;
    }

    if (ref === "close") {
      var closeMarker = firstMarker("close");
      if (closeMarker) closeMarker.error = frame;
      var closing = closeMarker ? state.convs.get(closeMarker.id) : null;
      if (closing && code === "conversation_closed") return;   // the patron closed it first: fine
      if (closing) closing.closing = false;
      if (closing && closing.id === state.activeId) showAlert(el.chatAlerts, text);
      else showAlert(el.globalAlerts, text);
      renderAll();
      return;
    }

    showAlert(el.globalAlerts, text);
  }

  function firstMarker(kind) {
    for (var i = 0; i < markers.length; i++) if (markers[i].kind === kind && !markers[i].error) return markers[i];
    return null;
  }

  // ---- conversations ---------------------------------------------------------------------
  function newConv(c) {
    return {
      id: c.id, status: c.status, queue: null, patron: {}, librarian: null, question: "",
      created_at: null, assigned_at: null, closed_at: null, closed_by: null, last_seq: 0,
      read: { patron: 0, librarian: 0 }, have: 0, fetching: false, readSent: 0,
      messages: new Map(), unread: 0, draft: "", scroll: null, closing: false, confirming: false,
      typingIn: { active: false, name: "", timer: null },
      typingOut: { active: false, sentAt: 0, idle: null },
      view: null
    };
  }

  function addConv(c) {
    var conv = newConv(c);
    state.convs.set(c.id, conv);
    if (state.order.indexOf(c.id) === -1) state.order.push(c.id);
    var stray = state.stray.get(c.id);
    if (stray) {
      state.stray.delete(c.id);
      stray.forEach(function (m) { addMessage(conv, m, false); });
    }
    return conv;
  }

  function mergePayload(target, c) {
    // Fields merge; so does `patron`: a frame without patron.email keeps the email we have.
    Object.keys(c).forEach(function (key) {
      if (key === "messages") return;
      if (key === "patron") {
        target.patron = Object.assign({}, target.patron || {}, c.patron || {});
        return;
      }
      target[key] = c[key];
    });
    return target;
  }

  function mergeConv(conv, c, live) {
    var wasClosed = conv.status === "closed";
    var closedFields = wasClosed ? { closed_at: conv.closed_at, closed_by: conv.closed_by } : null;
    mergePayload(conv, c);
    if (wasClosed && c.status !== "closed") {
      // A conversation never reopens: a stale frame must not bring it back.
      conv.status = "closed";
      conv.closed_at = closedFields.closed_at;
      conv.closed_by = closedFields.closed_by;
    }
    if (Array.isArray(c.messages)) {
      c.messages.forEach(function (m) { addMessage(conv, m, live); });
    }
    if (c.read) conv.readSent = Math.max(conv.readSent, c.read.librarian || 0);
    if (typeof c.last_seq === "number") repair(conv, c.last_seq);
  }

  /* Store a message once (by seq). Returns true when it is new. */
  function addMessage(conv, m, live) {
    if (m.client_id && state.outbox.has(m.client_id) && m.role === "librarian") {
      state.outbox.delete(m.client_id);
      saveOutbox();
    }
    var existing = conv.messages.get(m.seq);
    if (existing) {
      hook("stored", m, existing);
      return false;
    }
    conv.messages.set(m.seq, m);
    while (conv.messages.has(conv.have + 1)) conv.have += 1;
    if (m.role === "patron") {
      conv.typingIn.active = false;
      clearTimeout(conv.typingIn.timer);
    }
    if (live && m.role === "patron") {
      if (conv.id !== state.activeId || document.hidden) conv.unread += 1;
      announce(t("announce_message", { name: m.author || patronName(conv), text: truncate(shownText(m), 140) }));
    }
    return true;
  }

  function heldCount() {
    var n = 0;
    state.convs.forEach(function (conv) { if (conv.status === "active") n += 1; });
    return n;
  }

  function selectConv(id, focus) {
    var previous = state.convs.get(state.activeId);
    if (previous && previous.id !== id) {
      previous.draft = el.input.value;
      previous.scroll = atBottom() ? null : el.messages.scrollTop;
      previous.confirming = false;
      sendTyping(previous, false);
    }
    state.activeId = id;
    var conv = state.convs.get(id);
    if (conv) {
      conv.unread = 0;
      el.input.value = conv.draft || "";
      clearAlert(el.chatAlerts);
    }
    renderAll();
    if (conv) {
      if (conv.scroll === null) scrollToBottom();
      else el.messages.scrollTop = conv.scroll;
      if (focus) {
        if (conv.status === "active") el.input.focus();
        else el.chatTitle.focus();
      }
    }
  }

  function dismissConv(id) {
    var conv = state.convs.get(id);
    if (!conv || conv.status !== "closed") return;
    state.convs.delete(id);
    state.order = state.order.filter(function (x) { return x !== id; });
    state.outbox.forEach(function (item, key) { if (item.conversation === id) state.outbox.delete(key); });
    saveOutbox();
    if (state.activeId === id) {
      state.activeId = null;
      if (state.order.length) selectConv(state.order[0], false);
    }
    renderAll();
    var first = el.chatList.querySelector("button.chat-item");
    if (first) first.focus();
  }

  // ---- actions ---------------------------------------------------------------------------
  function claim(id) {
    if (!state.ready) { showAlert(el.queueAlerts, t("not_connected")); return; }
    clearAlert(el.queueAlerts);
    state.pendingClaims.add(id);
    send({ type: "claim", conversation: id });
    mark("claim", id);
    renderQueue();
  }

  function sendMessage() {
    var conv = state.convs.get(state.activeId);
    if (!conv || conv.status !== "active") return;
    var text = el.input.value.trim();
    if (!text) { showAlert(el.chatAlerts, t("empty_message")); return; }
    if (text.length > MAX_LENGTH) return;
    clearAlert(el.chatAlerts);
    sendTyping(conv, false);
    el.input.value = "";
    conv.draft = "";
    renderCounter();
    queueMessage(conv, text, null);
  }

  /* Into the outbox, and out now if connected; `extra`: {attachment: id, file: {name, size, type}}. */
  function queueMessage(conv, text, extra) {
    var item = Object.assign({ client_id: uuid(), conversation: conv.id, text: text, created: Date.now(),
                               status: "sending", error: null }, extra);
    state.outbox.set(item.client_id, item);
    saveOutbox();
    if (state.ready) send(messageFrame(item));
    renderConv(conv);
    scrollToBottom();
  }
  function messageFrame(item) {
    var frame = { type: "message", conversation: item.conversation, client_id: item.client_id, text: item.text };
    if (item.attachment) frame.attachment = item.attachment;
    return frame;
  }

  function sendTyping(conv, active) {
    if (!conv) return;
    clearTimeout(conv.typingOut.idle);
    if (!active && !conv.typingOut.active) return;
    conv.typingOut.active = active;
    conv.typingOut.sentAt = Date.now();
    if (state.ready && conv.status === "active") send({ type: "typing", conversation: conv.id, active: active });
  }

  function onComposerInput() {
    renderCounter();
    var conv = state.convs.get(state.activeId);
    if (!conv || conv.status !== "active") return;
    conv.draft = el.input.value;
    if (!el.input.value.trim()) { sendTyping(conv, false); return; }
    if (!conv.typingOut.active || Date.now() - conv.typingOut.sentAt >= TYPING_RESEND_MS) sendTyping(conv, true);
    clearTimeout(conv.typingOut.idle);
    conv.typingOut.idle = setTimeout(function () { sendTyping(conv, false); }, TYPING_IDLE_MS);
  }

  function requestClose() {
    var conv = state.convs.get(state.activeId);
    if (!conv || conv.status !== "active") return;
    conv.confirming = true;
    renderChat();
    el.closeNo.focus();
  }
  function cancelClose() {
    var conv = state.convs.get(state.activeId);
    if (conv) conv.confirming = false;
    renderChat();
    el.closeButton.focus();
  }
  function confirmClose() {
    var conv = state.convs.get(state.activeId);
    if (!conv || conv.status !== "active") return;
    if (!state.ready) { showAlert(el.chatAlerts, t("not_connected")); return; }
    conv.confirming = false;
    conv.closing = true;
    sendTyping(conv, false);
    send({ type: "close", conversation: conv.id });
    mark("close", conv.id);
    renderAll();
    el.chatTitle.focus();
  }

  // ---- rendering -------------------------------------------------------------------------
  function renderAll() {
    renderQueue();
    renderChatList();
    renderChat();
    renderTitle();
  }

  function renderTitle() {
    var n = state.waiting.size;
    document.title = (n ? "(" + n + ") " : "") + baseTitle;
  }

  function renderConnection(mode) {
    var text = "";
    el.connRetry.hidden = true;
    el.connDot.className = "conn-dot conn-" + mode;
    if (mode === "connecting") text = t("connecting");
    else if (mode === "reconnecting") text = t("reconnecting");
    else if (mode === "waiting") {
      var seconds = Math.max(1, Math.ceil((retryAt - Date.now()) / 1000));
      text = t("reconnecting_in", { seconds: seconds });
      el.connRetry.hidden = false;
    }
    var showBanner = mode === "reconnecting" || mode === "waiting";
    el.connBanner.hidden = !showBanner;
    if (showBanner && el.connText.textContent !== text) el.connText.textContent = text;
    var label = mode === "connected" ? t("connected") : mode === "ended" ? t("offline") : text || t("connecting");
    el.connDot.title = label;
    el.connDotText.textContent = label;
    root.classList.toggle("is-offline", mode !== "connected");
  }

  function waitClass(ms) {
    if (ms >= 5 * 60000) return "wait-long";
    if (ms >= 2 * 60000) return "wait-mid";
    return "";
  }

  var queueEls = new Map();
  function renderQueue() {
    var items = Array.from(state.waiting.values()).sort(function (a, b) {
      return (parseTime(a.created_at) - parseTime(b.created_at)) || (a.id - b.id);
    });
    el.waitingCount.textContent = String(items.length);
    el.waitingCount.classList.toggle("has-items", items.length > 0);
    el.queueEmpty.hidden = items.length > 0;
    var keep = new Set();
    items.forEach(function (c, index) {
      keep.add(c.id);
      var entry = queueEls.get(c.id);
      if (!entry) { entry = buildQueueItem(c); queueEls.set(c.id, entry); }
      updateQueueItem(entry, c);
      if (el.queueList.children[index] !== entry.li) el.queueList.insertBefore(entry.li, el.queueList.children[index] || null);
    });
    queueEls.forEach(function (entry, id) {
      if (!keep.has(id)) {
        var hadFocus = entry.li.contains(document.activeElement);
        entry.li.remove();
        queueEls.delete(id);
        if (hadFocus) { var b = el.queueList.querySelector("button") || el.queueEmpty; if (b.focus) b.focus(); }
      }
    });
    tickQueue();
    renderTitle();
  }

  function buildQueueItem(c) {
    var li = h("li", "queue-item");
    var main = h("div", "qi-main");
    var question = h("p", "qi-question");
    var meta = h("p", "qi-meta");
    var name = h("span", "qi-name");
    var queue = h("span", "tag");
    meta.appendChild(name);
    meta.appendChild(queue);
    main.appendChild(question);
    main.appendChild(meta);
    var side = h("div", "qi-side");
    var wait = h("span", "qi-wait");
    var waitTime = h("time", "qi-wait-time");
    wait.appendChild(waitTime);
    var button = h("button", "button primary small");
    button.type = "button";
    button.addEventListener("click", function () { claim(c.id); });
    side.appendChild(wait);
    side.appendChild(button);
    li.appendChild(main);
    li.appendChild(side);
    return { li: li, question: question, name: name, queue: queue, wait: wait, waitTime: waitTime, button: button, c: c };
  }

  function updateQueueItem(entry, c) {
    entry.c = c;
    entry.question.textContent = truncate(c.question, 280);
    entry.name.textContent = patronName(c);
    entry.queue.textContent = (c.queue && c.queue.name) || "";
    var pending = state.pendingClaims.has(c.id);
    entry.button.textContent = pending ? t("claiming") : t("claim");
    entry.button.disabled = pending || !state.ready;
    entry.button.setAttribute("aria-label", pending ? t("claiming") : t("claim_label", { name: patronName(c) }));
    entry.waitTime.dateTime = c.created_at || "";
  }

  function tickQueue() {
    var current = now();
    queueEls.forEach(function (entry) {
      var ms = current - parseTime(entry.c.created_at);
      if (isNaN(ms)) return;
      var text = duration(ms);
      if (entry.waitTime.textContent !== text) entry.waitTime.textContent = text;
      var label = t("waiting_for", { duration: text });
      entry.wait.title = label;
      entry.wait.className = "qi-wait " + waitClass(ms);
    });
  }

  var chatEls = new Map();
  function renderChatList() {
    el.chatsEmpty.hidden = state.order.length > 0;
    var held = heldCount();
    el.capacityHeld.textContent = String(held);
    if (el.capacityMax.value !== String(state.me.max_chats)) el.capacityMax.value = String(state.me.max_chats);
    el.capacity.classList.toggle("full", held >= state.me.max_chats);
    el.capacity.title = held >= state.me.max_chats ? t("full") : "";
    var keep = new Set();
    state.order.forEach(function (id, index) {
      var conv = state.convs.get(id);
      if (!conv) return;
      keep.add(id);
      var entry = chatEls.get(id);
      if (!entry) { entry = buildChatItem(conv); chatEls.set(id, entry); }
      updateChatItem(entry, conv);
      if (el.chatList.children[index] !== entry.li) el.chatList.insertBefore(entry.li, el.chatList.children[index] || null);
    });
    chatEls.forEach(function (entry, id) {
      if (!keep.has(id)) { entry.li.remove(); chatEls.delete(id); }
    });
  }

  function buildChatItem(conv) {
    var li = h("li", "chat-entry");
    var button = h("button", "chat-item");
    button.type = "button";
    var top = h("span", "ci-top");
    var name = h("span", "ci-name");
    var badge = h("span", "badge");
    var badgeNumber = h("span", "", "");
    badgeNumber.setAttribute("aria-hidden", "true");
    var badgeLabel = h("span", "visually-hidden");
    badge.appendChild(badgeNumber);
    badge.appendChild(badgeLabel);
    var status = h("span", "ci-status");
    top.appendChild(name);
    top.appendChild(status);
    top.appendChild(badge);
    var preview = h("span", "ci-preview");
    button.appendChild(top);
    button.appendChild(preview);
    button.addEventListener("click", function () { selectConv(conv.id, true); });
    li.appendChild(button);
    var remove = h("button", "ci-remove");
    remove.type = "button";
    remove.appendChild(document.createTextNode("×"));
    remove.addEventListener("click", function () { dismissConv(conv.id); });
    li.appendChild(remove);
    return { li: li, button: button, name: name, badge: badge, badgeNumber: badgeNumber, badgeLabel: badgeLabel, status: status, preview: preview, remove: remove };
  }

  /* A message's text, or the name of the file it sends when it has no text. */
  function shownText(m) { return m.text || (m.attachment ? m.attachment.name : ""); }
  function lastMessage(conv) {
    var best = null;
    conv.messages.forEach(function (m) { if (m.role !== "system" && (!best || m.seq > best.seq)) best = m; });
    return best;
  }

  function updateChatItem(entry, conv) {
    var active = conv.id === state.activeId;
    entry.li.classList.toggle("is-active", active);
    entry.li.classList.toggle("is-closed", conv.status === "closed");
    if (active) entry.button.setAttribute("aria-current", "true");
    else entry.button.removeAttribute("aria-current");
    entry.name.textContent = patronName(conv);
    entry.badge.hidden = !conv.unread;
    entry.badgeNumber.textContent = String(conv.unread);
    entry.badgeLabel.textContent = t("unread", { count: conv.unread });
    var statusText = conv.status === "closed" ? t("closed") : conv.closing ? t("closing") : conv.typingIn.active ? t("typing_short") : "";
    entry.status.textContent = statusText;
    entry.status.className = "ci-status" + (conv.status === "closed" ? " is-closed" : conv.typingIn.active ? " is-typing" : "");
    var last = lastMessage(conv);
    var preview = last ? (last.role === "librarian" ? t("you") + ": " : "") + truncate(shownText(last), 80) : truncate(conv.question, 80);
    entry.preview.textContent = ((conv.queue && conv.queue.name) ? conv.queue.name + " · " : "") + preview;
    entry.remove.hidden = conv.status !== "closed";
    entry.remove.setAttribute("aria-label", t("remove_label", { name: patronName(conv) }));
    entry.remove.title = t("remove_label", { name: patronName(conv) });
  }

  function renderChat() {
    var conv = state.convs.get(state.activeId);
    el.placeholder.hidden = !!conv;
    el.chat.hidden = !conv;
    if (!conv) return;
    el.chatTitle.textContent = patronName(conv);

    el.chatMeta.textContent = "";
    var email = conv.patron && conv.patron.email;
    if (email) {
      var a = h("a", "chat-email", email);
      a.href = "mailto:" + email;
      el.chatMeta.appendChild(a);
    }
    if (conv.patron && conv.patron.card) el.chatMeta.appendChild(h("span", "tag", t("card", { number: conv.patron.card })));
    if (conv.queue && conv.queue.name) el.chatMeta.appendChild(h("span", "tag", conv.queue.name));
    el.chatMeta.appendChild(h("span", "chat-times"));
    tickChat();
    el.chatQuestion.textContent = conv.question || "";

    var closed = conv.status === "closed";
    el.closeButton.hidden = closed;
    renderNotes(conv);
    if (closed) closeTransfer(false);
    el.closeButton.disabled = conv.closing || !state.ready;
    el.closeButton.textContent = conv.closing ? t("closing") : t("close_chat");
    el.closeConfirm.hidden = !conv.confirming || closed;
    el.closedBanner.hidden = !closed;
    if (closed) {
      var time = clock(parseTime(conv.closed_at));
      el.closedText.textContent = conv.closed_by === "patron" ? t("closed_by_patron", { time: time })
        : conv.closed_by === "librarian" ? t("closed_by_librarian", { time: time })
        : conv.closed_by === "system" ? t("closed_by_system", { time: time })
        : t("closed_unknown");
    }
    el.composer.hidden = closed;
    el.composerLabel.textContent = t("message_to", { name: patronName(conv) });
    el.sendButton.disabled = stopped;
    el.input.disabled = stopped;
    renderCounter();
    renderConv(conv);
    renderTyping();
  }

  function tickChat() {
    var conv = state.convs.get(state.activeId);
    if (!conv) return;
    var holder = el.chatMeta.querySelector(".chat-times");
    if (!holder) return;
    var created = parseTime(conv.created_at), assigned = parseTime(conv.assigned_at), closed = parseTime(conv.closed_at);
    var parts = [];
    if (!isNaN(created)) parts.push(t("asked_at", { time: clock(created) }));
    if (!isNaN(created) && !isNaN(assigned)) parts.push(t("waited", { duration: duration(assigned - created) }));
    if (!isNaN(assigned)) {
      var end = conv.status === "closed" ? (isNaN(closed) ? assigned : closed) : now();
      parts.push(t("open_for", { duration: duration(end - assigned) }));
    }
    var text = parts.join(" · ");
    if (holder.textContent !== text) holder.textContent = text;
  }

  function renderCounter() {
    var length = el.input.value.length;
    var left = MAX_LENGTH - length;
    var text = length >= COUNTER_FROM ? t("chars_left", { count: left }) : "";
    if (el.counter.textContent !== text) el.counter.textContent = text;
    el.counter.classList.toggle("near", length >= COUNTER_FROM);
    el.counter.classList.toggle("over", left <= 0);
  }

  function renderTyping() {
    var conv = state.convs.get(state.activeId);
    var show = !!(conv && conv.status !== "closed" && conv.typingIn.active);
    el.typing.hidden = !show;
    if (show) {
      var text = t("typing", { name: conv.typingIn.name || patronName(conv) });
      if (el.typing.textContent !== text) el.typing.textContent = text;
    }
  }

  function atBottom() {
    var m = el.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 48;
  }
  function scrollToBottom() {
    el.messages.scrollTop = el.messages.scrollHeight;
    el.jumpLatest.hidden = true;
  }

  /* The messages of one conversation, kept as a keyed list so nothing is rebuilt needlessly. */
  function renderConv(conv) {
    if (!conv.view) {
      conv.view = { list: h("ol", "message-list"), els: new Map() };
    }
    var view = conv.view;
    var isActive = conv.id === state.activeId;
    var stick = isActive && atBottom();

    var entries = [];
    Array.from(conv.messages.values()).sort(function (a, b) { return a.seq - b.seq; }).forEach(function (m) {
      entries.push({ key: "s" + m.seq, build: function () { return buildMessage(conv, m, null); } });
    });
    outboxFor(conv.id).forEach(function (item) {
      entries.push({ key: "c" + item.client_id + ":" + item.status, build: function () { return buildMessage(conv, null, item); } });
    });
    if (!entries.length) entries.push({ key: "empty", build: function () { return h("li", "msg-empty", t("no_messages")); } });

    var keep = new Set();
    var added = false;
    entries.forEach(function (entry, index) {
      keep.add(entry.key);
      var node = view.els.get(entry.key);
      if (!node) { node = entry.build(); view.els.set(entry.key, node); added = true; }
      if (view.list.children[index] !== node) view.list.insertBefore(node, view.list.children[index] || null);
    });
    view.els.forEach(function (node, key) {
      if (!keep.has(key)) { node.remove(); view.els.delete(key); }
    });

    if (isActive) {
      if (el.messages.firstChild !== view.list) {
        el.messages.textContent = "";
        el.messages.appendChild(view.list);
      }
      if (stick) scrollToBottom();
      else if (added) el.jumpLatest.hidden = false;
      if (!document.hidden) conv.unread = 0;
      reportRead(conv);
    }
    markRead(conv);
    renderChatList();
  }

  /* "Read" under our newest message the patron has seen. */
  function markRead(conv) {
    var seen = null;
    conv.messages.forEach(function (m) {
      if (m.role === "librarian" && m.seq <= conv.read.patron && (!seen || m.seq > seen.seq)) seen = m;
    });
    var node = seen ? conv.view.els.get("s" + seen.seq) : null;
    var marker = conv.view.readMarker;
    if (!node) { if (marker) marker.remove(); return; }
    if (!marker) marker = conv.view.readMarker = h("p", "msg-read", t("read"));
    if (marker.parentNode !== node) node.appendChild(marker);
  }

  function buildMessage(conv, m, pending) {
    var role = m ? m.role : "librarian";
    var li = h("li", "msg msg-" + role);
    if (role === "system") {
      var notice = h("p", "msg-notice");
      appendLinkified(notice, m.text);
      var stamp = h("time", "msg-time", clock(parseTime(m.sent_at)));
      stamp.dateTime = m.sent_at || "";
      notice.appendChild(document.createTextNode(" · "));
      notice.appendChild(stamp);
      li.appendChild(notice);
      return li;
    }
    var meta = h("p", "msg-meta");
    var author;
    if (role === "patron") author = (m && m.author) || patronName(conv);
    else author = (m && m.author) || state.me.name || t("librarian");
    meta.appendChild(h("span", "msg-author", author));
    if (m) {
      var time = h("time", "msg-time", clock(parseTime(m.sent_at)));
      time.dateTime = m.sent_at || "";
      meta.appendChild(time);
    }
    var body = h("div", "msg-body");
    appendLinkified(body, m ? m.text : pending.text);
    hook("message", body, m ? m.attachment : pending.file);
    li.appendChild(meta);
    li.appendChild(body);
    if (pending) {
      li.classList.add(pending.status === "failed" ? "is-failed" : "is-pending");
      var status = h("p", "msg-status", pending.status === "failed" ? t("not_sent", { reason: pending.error || t("unknown_error") }) : t("sending"));
      li.appendChild(status);
      if (pending.status === "failed") {
        var dismiss = h("button", "link-button small", t("dismiss"));
        dismiss.type = "button";
        dismiss.addEventListener("click", function () {
          state.outbox.delete(pending.client_id);
          saveOutbox();
          renderConv(conv);
        });
        status.appendChild(document.createTextNode(" "));
        status.appendChild(dismiss);
      }
    }
    return li;
  }

  // ---- events ----------------------------------------------------------------------------
  el.composer.addEventListener("submit", function (event) { event.preventDefault(); sendMessage(); });
  el.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      sendMessage();
    }
  });
  el.input.addEventListener("input", onComposerInput);
  el.input.addEventListener("blur", function () {
    var conv = state.convs.get(state.activeId);
    if (conv && !el.input.value.trim()) sendTyping(conv, false);
  });
  el.closeButton.addEventListener("click", requestClose);
  el.closeNo.addEventListener("click", cancelClose);
  el.closeYes.addEventListener("click", confirmClose);
  el.closeConfirm.addEventListener("keydown", function (event) { if (event.key === "Escape") cancelClose(); });
  el.dismissButton.addEventListener("click", function () { if (state.activeId !== null) dismissConv(state.activeId); });
  el.connRetry.addEventListener("click", reconnectNow);
  el.myStatus.addEventListener("change", function () { send({ type: "status", status: el.myStatus.value }); });
  el.capacityMax.addEventListener("change", function () { send({ type: "capacity", max_chats: parseInt(el.capacityMax.value, 10) }); });
  el.transferButton.addEventListener("click", function () { if (el.transferForm.hidden) openTransfer(); else closeTransfer(true); });
  el.transferCancel.addEventListener("click", function () { closeTransfer(true); });
  el.transferForm.addEventListener("submit", function (event) { event.preventDefault(); submitTransfer(); });
  el.transferForm.addEventListener("keydown", function (event) { if (event.key === "Escape") closeTransfer(true); });
  el.jumpLatest.addEventListener("click", function () { scrollToBottom(); el.input.focus(); });
  el.messages.addEventListener("scroll", function () { if (atBottom()) el.jumpLatest.hidden = true; });
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) return;
    var conv = state.convs.get(state.activeId);
    if (conv && conv.unread) { conv.unread = 0; renderChatList(); }
    if (conv) reportRead(conv);
    if (!ws && !stopped) reconnectNow();
  });

  // Every second: the waiting times, the chat's times, the reconnect countdown, the heartbeat.
  setInterval(function () {
    tickQueue();
    tickChat();
    tickOffers();
    if (!ws && retryTimer && !stopped) renderConnection("waiting");
    if (ws && ws.readyState === WebSocket.OPEN && !state.ready && Date.now() - openedAt > WELCOME_TIMEOUT_MS) {
      dropSocket();
      return;
    }
    if (ws && ws.readyState === WebSocket.OPEN && state.ready) {
      var oldest = markers.length ? markers[0].sent : null;
      if (oldest !== null && Date.now() - oldest > HEARTBEAT_TIMEOUT_MS) { dropSocket(); return; }
      if (Date.now() - lastFrameAt > HEARTBEAT_MS && !markers.length) mark("heartbeat", null);
      if (Date.now() - beatAt > BEAT_MS && send({ type: "heartbeat" })) beatAt = Date.now();
    }
  }, 1000);

  // ---- plugins (dashboard-attachments.js) register in window.RuangTanyaDashboardPlugins before us
  var plugins = (window.RuangTanyaDashboardPlugins || []).map(function (plugin) {
    return plugin({ activeConversation: function () { return state.convs.get(state.activeId) || null; },
      queueMessage: queueMessage, showAlert: function (text) { showAlert(el.chatAlerts, text); },
      fetch: function (conv, after, before) { send({ type: "fetch", conversation: conv.id, after: after, before: before }); },
      clearAlert: function () { clearAlert(el.chatAlerts); } });
  });
  function hook(name, a, b) {
    (plugins || []).forEach(function (p) { if (p && p[name]) p[name](a, b); });
  }

  loadOutbox();
  renderAll();
  connect();
})();
