/* Ruang Tanya chat panel: the patron side of docs/protocol.md (version 1), in the widget iframe.
 *
 * State lives in a few variables: `conv` (the conversation shown, or null), `outbox` (frames with
 * text that the server has not acknowledged yet, kept in localStorage so nothing typed is lost),
 * and the socket. Message text is only ever inserted as text nodes. */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  function readJSON(id) {
    try { return JSON.parse($(id).textContent); } catch (e) { return null; }
  }
  var cfg = readJSON("widget-config") || {};
  var S = readJSON("widget-strings") || {};
  var pageToken = readJSON("widget-token") || cfg.token;
  var MAX = cfg.maxLength || 4000;
  var LANG = document.documentElement.lang || "";
  var inFrame = window.parent !== window;

  // ---- storage (localStorage may be unavailable in some embedded contexts: fall back to memory)
  var PREFIX = "ruangtanya:" + cfg.siteKey + ":";
  var memory = {};
  var store = {
    get: function (k) {
      try { return localStorage.getItem(PREFIX + k); } catch (e) { return memory[k] || null; }
    },
    set: function (k, v) {
      try { localStorage.setItem(PREFIX + k, v); } catch (e) { memory[k] = v; }
    },
    del: function (k) {
      try { localStorage.removeItem(PREFIX + k); } catch (e) { delete memory[k]; }
    },
    getJSON: function (k, fallback) {
      try { return JSON.parse(this.get(k)) || fallback; } catch (e) { return fallback; }
    }
  };

  // ---- elements
  var app = $("app"), statusText = $("status-text"), banner = $("banner"), scroller = $("scroller");
  var intro = $("intro"), startForm = $("start-form"), q = $("q"), nameField = $("name"), email = $("email");
  var card = $("card");
  var chat = $("chat"), log = $("log"), typingEl = $("typing"), typingText = $("typing-text");
  var alertBox = $("alert"), alertText = $("alert-text");
  var foot = $("foot"), composer = $("composer"), msg = $("msg"), tools = $("tools"), endBtn = $("end");
  var confirmBox = $("confirm"), ended = $("ended");

  // ---- state
  var token = store.get("token") || pageToken;
  store.set("token", token);
  var tokenRetried = false;
  var outbox = store.getJSON("outbox", []);
  var dismissed = Number(store.get("dismissed")) || 0; // a closed conversation the patron has left
  var conv = null;                 // the conversation shown
  var showForm = true;             // pre-chat form, or the chat view
  var bySeq = {}, byClientId = {}; // rendered message elements
  var lastSeq = 0;                 // the highest seq we hold with nothing missing before it
  var fetching = false;            // a gap request is on its way
  var readSent = 0, readMarker = null;
  // The loader tells us when the patron opens or minimises the panel; one loaded closed (a chat
  // going on while the patron browses the library's pages) says so in its address from the start,
  // so nothing arriving before the loader's first word is marked read.
  var panelOpen = !(inFrame && location.hash === "#closed");
  var desk = { open: true };       // can someone answer live? if not, questions are left for email
  var ws = null, ready = false, everConnected = false, fatal = false;
  var attempt = 0, retryTimer = 0, heardAt = 0, heartbeatMs = 20000;
  var closeWanted = false;
  var typingOn = false, typingSentAt = 0, typingIdle = 0, typingHide = 0;

  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID(); // secure contexts only
    var a = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(a);
    else for (var i = 0; i < 16; i++) a[i] = Math.random() * 256;
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  function fill(template, name, value) {
    return String(template || "").replace("{" + name + "}", function () { return value; });
  }
  function saveOutbox() { store.set("outbox", JSON.stringify(outbox)); }

  // ---- text and links
  var URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;
  function richText(parent, text) {
    var last = 0, match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text))) {
      var url = match[0].replace(/[.,;:!?')\]}]+$/, "");
      if (url.length < 10) continue;
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var a = document.createElement("a");
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer nofollow";
      a.textContent = url;
      parent.appendChild(a);
      last = match.index + url.length;
      URL_RE.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }
  /* HH:MM in the library's time zone (the patron's own may differ). */
  var clockParts = (function () {
    try {
      return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: cfg.timeZone });
    } catch (e) { return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }); }
  })();
  function hhmm(iso) {
    var d = iso ? new Date(iso) : new Date();
    return isNaN(d) ? "" : clockParts.format(d);
  }

  // ---- the message log
  function nearBottom() { return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80; }
  function toBottom() { scroller.scrollTop = scroller.scrollHeight; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function buildMessage(m) {
    var li = el("li", "msg msg-" + m.role);
    if (m.role === "librarian") li.appendChild(el("p", "msg-author", m.author || S.librarian));
    if (m.role === "patron") li.appendChild(el("p", "visually-hidden", S.you + ":"));
    var bubble = el("div", "bubble");
    richText(bubble, m.text || "");
    hook("message", bubble, m);
    li.appendChild(bubble);
    var meta = el("p", "msg-meta");
    var time = el("time", "", hhmm(m.sent_at));
    if (m.sent_at) time.dateTime = m.sent_at;
    meta.appendChild(time);
    li.appendChild(meta);
    li.dataset.role = m.role;
    li.dataset.author = m.author || "";
    return li;
  }
  function setPending(li, pending) {
    li.classList.toggle("pending", pending);
    var meta = li.querySelector(".msg-meta"), state = meta.querySelector(".state");
    if (pending && !state) meta.appendChild(el("span", "state", " · " + S.sending));
    if (!pending && state) state.remove();
  }
  function setSeq(li, seq) {
    li.dataset.seq = seq;
    bySeq[seq] = li;
    while (bySeq[lastSeq + 1]) lastSeq += 1;
    place(li);
  }
  /* Keep the log in seq order, messages still being sent at the end. */
  function place(li) {
    var seq = Number(li.dataset.seq) || Infinity;
    var next = null;
    for (var node = log.lastElementChild; node; node = node.previousElementSibling) {
      var s = Number(node.dataset.seq) || Infinity;
      if (node !== li && s <= seq) break;
      if (node !== li) next = node;
    }
    if (li.nextElementSibling !== next || li.parentNode !== log) log.insertBefore(li, next);
    markContinuations();
  }
  function markContinuations() {
    var prev = null;
    for (var node = log.firstElementChild; node; node = node.nextElementSibling) {
      node.classList.toggle("cont", !!prev && prev.dataset.role === node.dataset.role &&
        prev.dataset.author === node.dataset.author);
      prev = node;
    }
  }

  function addMessage(m) {
    if (!m || typeof m.seq !== "number") return;
    if (conv && m.conversation !== conv.id) return;
    var stick = nearBottom(), li = bySeq[m.seq];
    if (li) { hook("stored", li, m); return; } // already shown; a plugin may complete it (a file's link)
    li = m.client_id && m.role === "patron" ? byClientId[m.client_id] : null;
    if (li) { // our own message coming back: it is stored
      li.querySelector("time").textContent = hhmm(m.sent_at);
      setPending(li, false);
      hook("stored", li, m);
    } else {
      li = buildMessage(m);
      if (m.client_id) byClientId[m.client_id] = li;
      news(m);
    }
    setSeq(li, m.seq);
    if (m.role === "librarian") hideTyping();
    if (stick || m.role === "patron") toBottom();
    repair(m.seq);
    reportRead();
  }

  /* notify.js counts what the patron has not read yet, however it arrived: live, in the welcome
     after a reload or another page of the library's site, or fetched to fill a gap. */
  function news(m) {
    if (m.seq > (conv && conv.read ? conv.read.patron : 0)) {
      document.dispatchEvent(new CustomEvent("ruangtanya:message", { detail: m }));
    }
  }

  /* A seq we do not have yet (a fan-out the channel layer lost): fetch it from the database. */
  function repair(upTo) {
    if (fetching || !ready || !conv || lastSeq >= upTo) return;
    fetching = send({ type: "fetch", conversation: conv.id, after: lastSeq });
  }
  function onMessages(f) {
    fetching = false;
    if (!conv || f.conversation !== conv.id) return;
    (f.messages || []).forEach(addMessage);
    if (f.more) repair(lastSeq + 1);
  }

  // ---- read receipts: ours go out when the patron can see the panel; theirs mark our messages
  function reportRead() {
    if (!ready || !conv || !panelOpen || document.hidden || lastSeq <= readSent) return;
    if (send({ type: "read", conversation: conv.id, seq: lastSeq })) readSent = lastSeq;
  }
  function showRead() {
    var upTo = conv && conv.read ? conv.read.librarian : 0, seen = null;
    for (var seq = upTo; seq > 0 && !seen; seq--) {
      if (bySeq[seq] && bySeq[seq].dataset.role === "patron") seen = bySeq[seq];
    }
    if (!seen) { if (readMarker) readMarker.remove(); return; }
    if (!readMarker) readMarker = el("span", "state read", " · " + S.read);
    var meta = seen.querySelector(".msg-meta");
    if (readMarker.parentNode !== meta) meta.appendChild(readMarker);
  }
  function onRead(f) {
    if (!conv || f.conversation !== conv.id || typeof f.seq !== "number") return;
    conv.read = conv.read || { patron: 0, librarian: 0 };
    if (f.role === "librarian") { conv.read.librarian = Math.max(conv.read.librarian, f.seq); showRead(); }
    if (f.role === "patron") readSent = Math.max(readSent, f.seq); // seen in another tab
  }
  function addPending(entry) {
    if (byClientId[entry.client_id]) return;
    var li = buildMessage({ role: "patron", text: entry.text, attachment: entry.file });
    setPending(li, true);
    byClientId[entry.client_id] = li;
    log.appendChild(li);
    markContinuations();
    toBottom();
  }
  function resetLog() {
    log.setAttribute("aria-live", "off"); // do not read out a whole restored history
    log.textContent = "";
    bySeq = {};
    byClientId = {};
    lastSeq = 0;
    readSent = 0;
    fetching = false;
    hideTyping();
    outbox.forEach(addPending);
    setTimeout(function () { log.setAttribute("aria-live", "polite"); }, 100);
  }

  // ---- views
  function render() {
    var status = conv ? conv.status : outbox.some(isStart) ? "queued" : "";
    app.dataset.status = status;
    var formView = showForm && !conv && !outbox.some(isStart);
    intro.hidden = !formView;
    chat.hidden = formView;
    foot.hidden = formView;
    var closed = status === "closed";
    composer.hidden = closed;
    ended.hidden = !closed;
    if (closed || !conv) confirmBox.hidden = true;
    tools.hidden = closed || !confirmBox.hidden;
    endBtn.hidden = !conv || closed;
    var text = S.title;
    if (!formView) {
      if (!ready) text = S.connecting;
      if (status === "queued") text = conv && conv.position ? placeText(conv) : S.queued;
      if (status === "active") {
        text = conv.librarian && conv.librarian.name ? fill(S.active, "name", conv.librarian.name) : S.activeAnon;
      }
      if (closed) text = S.closed;
    }
    if (statusText.textContent !== text) statusText.textContent = text;
    if (!foot.hidden) autosize();
    renderDesk(closed);
    hook("render", conv);
  }
  /* Nobody on duty (or outside opening hours): say so, and the question is left for an answer by
     email, so the email address becomes required. */
  function renderDesk(closed) {
    var offlineForm = !desk.open;
    var notice = $("desk-notice");
    notice.hidden = !offlineForm;
    if (offlineForm) {
      notice.textContent = desk.reason === "closed" ? S.deskClosed : S.deskNobody;
      if (desk.reason === "closed" && desk.hours) notice.textContent += " " + S.hours + " " + desk.hours.replace(/\n/g, "; ");
    }
    var emailMode = $("email-field").dataset.mode; // the site's choice; an offline question needs it
    $("email-field").hidden = emailMode === "hidden" && !offlineForm;
    email.required = offlineForm || emailMode === "required";
    $("email-opt").hidden = email.required;
    $("start-send").textContent = offlineForm ? S.leave : S.send;
    $("ended-text").textContent = closed && conv && conv.offline ? S.offlineSent : S.ended;
  }
  function isStart(entry) { return entry.type === "start"; }
  function placeText(c) {
    var text = fill(S.position, "n", c.position);
    if (c.estimated_wait != null) text += " · " + fill(S.wait, "m", Math.max(1, Math.round(c.estimated_wait / 60)));
    return text;
  }

  function showAlert(text) {
    alertText.textContent = text || S.error;
    alertBox.hidden = false;
  }
  function hideAlert() { alertBox.hidden = true; }

  function focusMain() {
    var target = !intro.hidden ? q : !composer.hidden && !foot.hidden ? msg : !ended.hidden ? $("again") : null;
    if (target) target.focus();
  }

  // ---- the socket
  function send(frame) {
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }
  function connect() {
    clearTimeout(retryTimer);
    if (ws || fatal) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + (cfg.socketPath || "/ws/patron/");
    try { ws = new WebSocket(url); } catch (e) { ws = null; return retry(); }
    var socket = ws;
    socket.onopen = function () { hello(); };
    socket.onmessage = function (event) {
      if (socket !== ws) return;
      heardAt = Date.now();
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") onFrame(frame);
    };
    socket.onclose = function () { if (socket === ws) dropped(); };
  }
  function hello() {
    send({ type: "hello", v: 1, token: token, lang: LANG, last_seq: conv ? lastSeq : 0 });
  }
  function dropped() {
    if (ws) { ws.onclose = ws.onmessage = ws.onopen = null; try { ws.close(); } catch (e) { /* gone */ } }
    ws = null;
    ready = false;
    fetching = false;
    typingOn = false;
    banner.hidden = fatal || !everConnected && attempt === 0;
    render();
    retry();
  }
  function retry() {
    if (fatal) return;
    var cap = Math.min(30000, 1000 * Math.pow(2, attempt++));
    retryTimer = setTimeout(connect, cap / 2 + Math.random() * cap / 2);
  }
  function reconnectNow() {
    if (!ws && !fatal) { attempt = 0; connect(); }
  }
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { reconnectNow(); reportRead(); }
  });
  // The loader says when the panel opens and closes: only an open panel marks messages read.
  window.addEventListener("message", function (e) {
    var m = e.data;
    if (!inFrame || e.source !== window.parent || !m || m.source !== "ruangtanya") return;
    if (m.type === "panel") { panelOpen = !!m.open; reportRead(); }
  });

  /* The server sends a heartbeat every interval; silence for 2.5 of them means the connection is
     dead even if the browser has not noticed yet (a phone that changed networks, a sleeping laptop). */
  setInterval(function () {
    if (ws && ready && Date.now() - heardAt > heartbeatMs * 2.5) dropped();
  }, 2000);

  // ---- frames from the server
  function onFrame(f) {
    if (hook("frame", f)) return; // handled by a plugin
    switch (f.type) {
      case "welcome": return onWelcome(f);
      case "conversation": return onConversation(f.conversation);
      case "message": return addMessage(f.message);
      case "ack": return onAck(f);
      case "typing": return onTyping(f);
      case "error": return onError(f);
      case "messages": return onMessages(f);
      case "queue.position":
        if (!conv || f.conversation !== conv.id) return;
        conv.position = f.position;
        conv.estimated_wait = f.estimated_wait;
        return render();
      case "read": return onRead(f);
      case "heartbeat":
        if (f.desk) { desk = f.desk; render(); }
        if (conv && f.last_seq && typeof f.last_seq[conv.id] === "number") repair(f.last_seq[conv.id]);
        return;
    }
  }

  function onWelcome(f) {
    var c = f.conversation;
    if (c && c.status === "closed" && c.id === dismissed) c = null; // the patron has moved on
    if (c && conv && c.id !== conv.id && lastSeq) {
      // Another conversation than the one we asked about: fetch it from the start.
      conv = null;
      resetLog();
      return hello();
    }
    ready = true;
    everConnected = true;
    attempt = 0;
    banner.hidden = true;
    if (f.heartbeat > 0) heartbeatMs = f.heartbeat * 1000;
    if (f.desk) desk = f.desk;
    if (c) {
      if (!conv || conv.id !== c.id) { conv = null; resetLog(); }
      adopt(c);
      (f.messages || []).forEach(addMessage);
      showRead();
      reportRead();
      toBottom();
    } else if (conv && conv.status !== "closed") { // it is gone on the server
      conv = null;
      showForm = true;
      resetLog();
    }
    outbox.forEach(send);
    if (closeWanted && conv && conv.status !== "closed") send({ type: "close" });
    closeWanted = false;
    render();
  }

  function adopt(c) {
    conv = Object.assign(conv || {}, c);
    delete conv.messages;
    showForm = false;
  }

  function onConversation(c) {
    if (!c || typeof c.id !== "number") return;
    if (conv && c.id < conv.id) return; // news of an older conversation
    if (conv && c.id > conv.id) { conv = null; resetLog(); } // started in another tab
    if (!conv && c.status === "closed" && showForm && !outbox.some(isStart)) return;
    adopt(c);
    (c.messages || []).forEach(addMessage);
    repair(c.last_seq);
    showRead();
    render();
    if (c.status === "closed") {
      hideTyping();
      stopTyping();
      var focused = document.activeElement;
      if (document.hasFocus() && (focused === document.body || foot.contains(focused))) $("again").focus();
    }
  }

  /* Stored: the ack carries the message as everyone else sees it (this socket gets no copy). */
  function onAck(f) {
    var entry = takeFromOutbox(f.client_id);
    if (!conv && entry && entry.type === "start") adopt({ id: f.conversation, status: "queued", librarian: null });
    addMessage(f.message);
    render();
  }

  function onTyping(f) {
    if (f.role !== "librarian" || (conv && f.conversation !== conv.id)) return;
    clearTimeout(typingHide);
    if (!f.active) return hideTyping();
    var stick = nearBottom();
    typingText.textContent = f.author ? fill(S.typing, "name", f.author) : S.typingAnon;
    typingEl.hidden = false;
    if (stick) toBottom();
    typingHide = setTimeout(hideTyping, 6000);
  }
  function hideTyping() { clearTimeout(typingHide); typingEl.hidden = true; }

  function onError(f) {
    if (f.code === "token_expired" || f.code === "token_invalid") return onTokenError(f);
    if (f.code === "unsupported_version") { fatal = true; showAlert(f.message); return; }
    if (f.code === "hello_required") return hello();
    if (f.code === "hello_timeout") return; // the socket closes and we reconnect
    var entry = f.ref ? takeFromOutbox(f.ref) : null;
    if (entry) giveBack(entry);
    if (f.ref === "typing" || f.ref === "read") return; // best effort
    if (f.ref === "fetch") { fetching = false; return; }
    if (f.ref === "close" && (f.code === "conversation_closed" || f.code === "no_conversation")) return;
    showAlert(f.message);
    var wrong = entry && entry.type === "start" && $(f.field === "queue" ? "queue-choice" : f.field);
    if (wrong && wrong.focus) wrong.focus(); // a pre-chat field the site requires
  }

  /* The stored token is no good (expired, or its site is gone): start afresh with the page's own
     token, once. The server closes the socket after the error; dropped() reconnects. */
  function onTokenError(f) {
    store.del("token");
    if (!tokenRetried && token !== pageToken) {
      tokenRetried = true;
      token = pageToken;
      store.set("token", token);
      conv = null;
      showForm = true;
      resetLog();
      attempt = 0;
      render();
    } else {
      fatal = true;
      showAlert(f.message);
    }
  }

  // ---- the outbox: nothing the patron typed is lost before the server has stored it
  function takeFromOutbox(clientId) {
    for (var i = 0; i < outbox.length; i++) {
      if (outbox[i].client_id === clientId) {
        var entry = outbox.splice(i, 1)[0];
        saveOutbox();
        return entry;
      }
    }
    return null;
  }
  /* A refused frame: its text goes back where the patron can send it again. */
  function giveBack(entry) {
    var li = byClientId[entry.client_id];
    if (li && !li.dataset.seq) { li.remove(); delete byClientId[entry.client_id]; }
    var target = conv && conv.status !== "closed" ? msg : q;
    if (entry.type === "start" && !conv) {
      if (entry.name && !nameField.value) nameField.value = entry.name;
      if (entry.email && !email.value) email.value = entry.email;
      if (entry.card && !card.value) card.value = entry.card;
      showForm = true;
    }
    target.value = target.value ? target.value + "\n\n" + entry.text : entry.text;
    saveDraft();
    counter(target);
    autosize();
    render();
  }
  function enqueue(entry) {
    outbox.push(entry);
    saveOutbox();
    addPending(entry);
    if (ready) send(entry);
    render();
  }

  // ---- drafts, counters, typing
  function saveDraft() {
    store.set("draft", JSON.stringify({ q: q.value, name: nameField.value, email: email.value, card: card.value, msg: msg.value }));
  }
  function counter(field) {
    var out = $(field.getAttribute("aria-describedby"));
    var left = MAX - field.value.length;
    out.hidden = left > 500;
    out.textContent = fill(S.left, "n", Math.max(0, left));
    out.classList.toggle("warn", left <= 100);
  }
  function autosize() {
    msg.style.height = "auto";
    msg.style.height = Math.min(msg.scrollHeight + 2, 132) + "px";
  }
  function startTyping() {
    if (!ready || !conv || conv.status !== "active") return;
    var now = Date.now();
    if (!typingOn || now - typingSentAt >= 3000) {
      typingOn = send({ type: "typing", active: true });
      typingSentAt = now;
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, 4000);
  }
  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingOn) { typingOn = false; send({ type: "typing", active: false }); }
  }

  // ---- patron actions
  function enterSends(form) {
    return function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    };
  }

  function asked(input) { return !input.closest(".field").hidden; }
  startForm.addEventListener("submit", function (e) {
    e.preventDefault();
    q.value = q.value.trim() ? q.value : "";
    if (!startForm.reportValidity()) return;
    hideAlert();
    var entry = { type: "start", client_id: uid(), text: q.value.trim() };
    if (!desk.open) entry.offline = true;
    if ($("queue-choice") && $("queue-choice").value) entry.queue = Number($("queue-choice").value);
    if (asked(nameField) && nameField.value.trim()) entry.name = nameField.value.trim();
    if (asked(email) && email.value.trim()) entry.email = email.value.trim();
    if (asked(card) && card.value.trim()) entry.card = card.value.trim();
    q.value = "";
    counter(q);
    saveDraft();
    conv = null;
    showForm = false;
    resetLog();
    enqueue(entry);
    msg.focus();
  });
  q.addEventListener("keydown", enterSends(startForm));

  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = msg.value.trim();
    if (!text) return;
    hideAlert();
    stopTyping();
    msg.value = "";
    autosize();
    counter(msg);
    saveDraft();
    enqueue({ type: "message", client_id: uid(), text: text });
  });
  msg.addEventListener("keydown", enterSends(composer));
  msg.addEventListener("input", function () {
    autosize();
    counter(msg);
    saveDraft();
    if (msg.value) startTyping(); else stopTyping();
  });
  q.addEventListener("input", function () { counter(q); saveDraft(); });
  nameField.addEventListener("input", saveDraft);
  email.addEventListener("input", saveDraft);
  card.addEventListener("input", saveDraft);

  endBtn.addEventListener("click", function () {
    confirmBox.hidden = false;
    render();
    $("confirm-no").focus();
  });
  function cancelConfirm() {
    confirmBox.hidden = true;
    render();
    endBtn.focus();
  }
  $("confirm-no").addEventListener("click", cancelConfirm);
  $("confirm-yes").addEventListener("click", function () {
    stopTyping();
    if (!send({ type: "close" })) closeWanted = true;
    confirmBox.hidden = true;
    render();
    msg.focus();
  });
  $("again").addEventListener("click", function () {
    if (conv) { dismissed = conv.id; store.set("dismissed", String(dismissed)); }
    conv = null;
    showForm = true;
    resetLog();
    hideAlert();
    render();
    q.focus();
  });
  $("alert-close").addEventListener("click", function () { hideAlert(); focusMain(); });

  function minimise() {
    if (inFrame) window.parent.postMessage({ source: "ruangtanya", type: "close" }, "*");
  }
  $("minimise").hidden = !inFrame;
  $("minimise").addEventListener("click", minimise);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    if (!confirmBox.hidden) return cancelConfirm();
    minimise();
  });
  // The loader focuses the iframe when the panel opens: put the caret where it is useful (but
  // not when the focus comes from a click or tap, which goes where the patron pointed).
  var pointedAt = 0;
  window.addEventListener("pointerdown", function () { pointedAt = Date.now(); }, true);
  window.addEventListener("focus", function () {
    if (document.activeElement === document.body && Date.now() - pointedAt > 500 &&
        !matchMedia("(pointer: coarse)").matches) focusMain();
  });

  // ---- plugins (attachments.js, after-chat.js) register in window.RuangTanyaPlugins before us
  var plugins = (window.RuangTanyaPlugins || []).map(function (plugin) {
    return plugin({ send: send, enqueue: enqueue, uid: uid, showAlert: showAlert, hideAlert: hideAlert,
      toBottom: toBottom, token: function () { return token; }, conversation: function () { return conv; } });
  });
  /* Calls `name` on every plugin; true when one of them says it has handled the event. */
  function hook(name, a, b) {
    var handled = false;
    (plugins || []).forEach(function (p) { if (p && p[name] && p[name](a, b)) handled = true; });
    return handled;
  }

  // ---- start
  var draft = store.getJSON("draft", {});
  q.value = draft.q || "";
  nameField.value = draft.name || "";
  email.value = draft.email || "";
  card.value = draft.card || "";
  msg.value = draft.msg || "";
  counter(q);
  counter(msg);
  resetLog();
  render();
  autosize();
  if (!pageToken) { fatal = true; showAlert(S.error); return; }
  connect();
})();
