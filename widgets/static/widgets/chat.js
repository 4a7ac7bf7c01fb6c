/* Ruang Tanya chat panel: the patron side of docs/protocol.md (version 1), in the widget iframe.
 *
 * The socket, the outbox, resume, gap repair and heartbeats are the shared protocol client's
 * (protocol-client.js); this file is the patron's view of it. State lives in a few variables:
 * `conv` (the conversation shown, or null), `client.outbox` (frames with text that the server has
 * not acknowledged yet, kept in localStorage so nothing typed is lost) and the rendered log.
 * Message text is only ever inserted as text nodes (dom.js). */
(function () {
  "use strict";

  var D = window.RuangTanyaDOM, P = window.RuangTanyaProtocol;
  var $ = function (id) { return document.getElementById(id); };
  function readJSON(id) {
    try { return JSON.parse($(id).textContent); } catch (e) { return null; }
  }
  var cfg = readJSON("widget-config") || {};
  var S = D.strings("chat-strings");
  var pageToken = readJSON("widget-token") || cfg.token;
  var MAX = cfg.maxLength || 4000;
  var LANG = document.documentElement.lang || "";
  var inFrame = window.parent !== window;

  // ---- storage (localStorage may be unavailable in some embedded contexts: memory instead)
  var store = P.store("localStorage", "ruangtanya:" + cfg.siteKey + ":");

  // ---- elements
  var app = $("app"), statusText = $("status-text"), banner = $("banner"), scroller = $("scroller");
  var intro = $("intro"), startForm = $("start-form"), q = $("q"), nameField = $("name"), email = $("email");
  var card = $("card"), faqOptOut = $("faq-opt-out");
  var chat = $("chat"), log = $("log"), typingEl = $("typing"), typingText = $("typing-text");
  var alertBox = $("alert"), alertText = $("alert-text");
  var foot = $("foot"), composer = $("composer"), msg = $("msg"), tools = $("tools"), endBtn = $("end");
  var confirmBox = $("confirm"), ended = $("ended");

  // ---- state
  var token = store.get("token") || pageToken;
  store.set("token", token);
  var tokenRetried = false;
  var dismissed = Number(store.get("dismissed")) || 0; // a closed conversation the patron has left
  var conv = null;                 // the conversation shown
  var showForm = true;             // pre-chat form, or the chat view
  var bySeq = {}, byClientId = {}; // rendered message elements
  var lastSeq = 0;                 // the highest seq we hold with nothing missing before it
  var readSent = 0, readMarker = null;
  // The loader tells us when the patron opens or minimises the panel; one loaded closed (a chat
  // going on while the patron browses the library's pages) says so in its address from the start,
  // so nothing arriving before the loader's first word is marked read.
  var panelOpen = !(inFrame && location.hash === "#closed");
  var desk = { open: true };       // can someone answer live? if not, questions are left for email
  var client = null;               // the protocol client (made once the plugins are, below)
  var closeWanted = false;
  var typingOn = false, typingSentAt = 0, typingIdle = 0, typingHide = 0;

  var uid = P.uid, el = D.h;
  function fill(template, name, value) {
    var params = {};
    params[name] = value;
    return D.format(template, params);
  }
  function ready() { return !!client && client.ready; }
  function send(frame) { return !!client && client.send(frame); }
  function outboxList() { return client ? client.outbox.list() : []; }
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

  function buildMessage(m) {
    var li = el("li", "msg msg-" + m.role);
    if (m.role === "librarian") li.appendChild(el("p", "msg-author", m.author || S.librarian));
    if (m.role === "patron") li.appendChild(el("p", "visually-hidden", S.you + ":"));
    var bubble = el("div", "bubble");
    D.appendText(bubble, m.text || "");
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
    reportRead();
  }

  /* notify.js counts what the patron has not read yet, however it arrived: live, in the welcome
     after a reload or another page of the library's site, or fetched to fill a gap. */
  function news(m) {
    if (m.seq > (conv && conv.read ? conv.read.patron : 0)) {
      document.dispatchEvent(new CustomEvent("ruangtanya:message", { detail: m }));
    }
  }

  /* A seq we do not have yet (a fan-out the channel layer lost): the protocol client fetches it. */
  function repair(upTo) {
    if (conv && client) client.repair(conv.id, upTo);
  }
  function onMessages(f) {
    if (!conv || f.conversation !== conv.id) return;
    (f.messages || []).forEach(addMessage);
  }

  // ---- read receipts: ours go out when the patron can see the panel; theirs mark our messages
  function reportRead() {
    if (!ready() || !conv || !panelOpen || document.hidden || lastSeq <= readSent) return;
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
    hideTyping();
    outboxList().forEach(addPending);
    setTimeout(function () { log.setAttribute("aria-live", "polite"); }, 100);
  }

  // ---- views
  function render() {
    var status = conv ? conv.status : outboxList().some(isStart) ? "queued" : "";
    app.dataset.status = status;
    var formView = showForm && !conv && !outboxList().some(isStart);
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
      if (!ready()) text = S.connecting;
      if (status === "queued") text = conv && conv.position ? placeText(conv) : S.queued;
      if (status === "active") {
        text = conv.librarian && conv.librarian.name ? fill(S.active, "name", conv.librarian.name) : S.activeAnon;
      }
      if (closed) text = S.closed;
    }
    if (statusText.textContent !== text) statusText.textContent = text;
    renderAnsweredBy(formView);
    if (!foot.hidden) autosize();
    renderDesk(closed);
    hook("render", conv);
  }
  /* A chat another library answers under a cover agreement names both libraries (`answered_by`). */
  function renderAnsweredBy(formView) {
    var line = $("answered-by");
    var by = !formView && conv && conv.answered_by;
    line.hidden = !by;
    if (!by) return;
    var text = D.format(S.answeredBy, { library: by.library || "", home: by.home_library || "" });
    if (line.textContent !== text) line.textContent = text;
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
    var child = ageGroup() === "child"; // no email needed for a live chat; offline, a parent's
    $("email-field").hidden = emailMode === "hidden" && !offlineForm;
    email.required = offlineForm || (emailMode === "required" && !child);
    $("email-opt").hidden = email.required;
    $("email-label").textContent = child && offlineForm ? S.parentEmail : S.email;
    if ($("parent-notice")) $("parent-notice").hidden = !child;
    $("start-send").textContent = offlineForm ? S.leave : S.send;
    $("ended-text").textContent = closed && conv && conv.offline ? S.offlineSent : S.ended;
  }
  function isStart(entry) { return entry.type === "start"; }
  /* The pre-chat form's "Are you under 18?": "child", "adult" or "" (not asked, or not answered). */
  function ageGroup() {
    var picked = asked($("age-group-field")) && startForm.querySelector("input[name=age_group]:checked");
    return picked ? picked.value : "";
  }
  function setAgeGroup(value) {
    var radio = value && $("age-group-" + value);
    if (radio && radio.name === "age_group") radio.checked = true;
  }
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

  // ---- the connection (protocol-client.js): what the patron sees of it
  function hello() { return client.hello(); }
  function onDown() {
    typingOn = false;
    banner.hidden = client.stopped() || !client.everConnected && client.attempts() === 0;
    render();
  }
  function fatal(text) {
    client.stop();
    showAlert(text);
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) reportRead(); });
  // The loader says when the panel opens and closes: only an open panel marks messages read.
  window.addEventListener("message", function (e) {
    var m = e.data;
    if (!inFrame || e.source !== window.parent || !m || m.source !== "ruangtanya") return;
    if (m.type === "panel") { panelOpen = !!m.open; reportRead(); }
  });

  // ---- frames from the server (plugins saw them first: see `hook`)
  function onFrame(f, extra) {
    switch (f.type) {
      case "welcome": return onWelcome(f);
      case "conversation": return onConversation(f.conversation);
      case "message": return addMessage(f.message);
      case "ack": return onAck(f, extra);
      case "typing": return onTyping(f);
      case "error": return onError(f, extra);
      case "messages": return onMessages(f);
      case "queue.position":
        if (!conv || f.conversation !== conv.id) return;
        conv.position = f.position;
        conv.estimated_wait = f.estimated_wait;
        return render();
      case "read": return onRead(f);
      case "heartbeat":
        if (f.desk) { desk = f.desk; render(); }
        return; // a last_seq ahead of ours is fetched by the protocol client
    }
  }

  function onWelcome(f) {
    var c = f.conversation;
    if (c && c.status === "closed" && c.id === dismissed) c = null; // the patron has moved on
    if (c && conv && c.id !== conv.id && lastSeq) {
      // Another conversation than the one we asked about: fetch it from the start.
      conv = null;
      resetLog();
      hello();
      return false; // not ready yet: the next welcome is the one
    }
    banner.hidden = true;
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
    render();
  }
  /* After the welcome the protocol client re-sends the outbox; an "End chat" pressed while offline
     goes after it. */
  function onResumed() {
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
    if (!conv && c.status === "closed" && showForm && !outboxList().some(isStart)) return;
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
  function onAck(f, entry) {
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

  function onError(f, refused) {
    if (f.code === "token_expired" || f.code === "token_invalid") return onTokenError(f);
    if (f.code === "unsupported_version") return fatal(f.message);
    if (f.code === "hello_required") return hello();
    if (f.code === "hello_timeout") return; // the socket closes and we reconnect
    var entry = refused ? client.outbox.take(refused.client_id) : null;
    if (entry) giveBack(entry);
    if (f.ref === "typing" || f.ref === "read" || f.ref === "fetch") return; // best effort
    if (f.ref === "close" && (f.code === "conversation_closed" || f.code === "no_conversation")) return;
    // Too much at once, or a librarian's block: the server's words say how long (retry_after
    // seconds, or until what time); what the patron wrote is back in the box, and we say so.
    var held = entry && (f.code === "rate_limited" || f.code === "blocked");
    showAlert(held ? f.message + " " + S.kept : f.message);
    var fieldId = { queue: "queue-choice", age_group: "age-group-child" }[f.field] || f.field;
    var wrong = entry && entry.type === "start" && $(fieldId);
    if (wrong && wrong.focus) wrong.focus(); // a pre-chat field the site requires
  }

  /* The stored token is no good (expired, or its site is gone): start afresh with the page's own
     token, once. The server closes the socket after the error; the protocol client reconnects. */
  function onTokenError(f) {
    store.del("token");
    if (!tokenRetried && token !== pageToken) {
      tokenRetried = true;
      token = pageToken;
      store.set("token", token);
      conv = null;
      showForm = true;
      resetLog();
      client.resetBackoff();
      render();
    } else {
      fatal(f.message);
    }
  }

  // ---- the outbox (client.outbox): nothing the patron typed is lost before the server has stored it
  /* A refused frame: its text goes back where the patron can send it again. */
  function giveBack(entry) {
    var li = byClientId[entry.client_id];
    if (li && !li.dataset.seq) { li.remove(); delete byClientId[entry.client_id]; }
    var target = conv && conv.status !== "closed" ? msg : q;
    if (entry.type === "start" && !conv) {
      if (entry.name && !nameField.value) nameField.value = entry.name;
      if (entry.email && !email.value) email.value = entry.email;
      if (entry.card && !card.value) card.value = entry.card;
      if (entry.age_group && !ageGroup()) setAgeGroup(entry.age_group);
      if (entry.faq_opt_out) faqOptOut.checked = true;
      showForm = true;
    }
    target.value = target.value ? target.value + "\n\n" + entry.text : entry.text;
    saveDraft();
    counter(target);
    autosize();
    render();
  }
  function enqueue(entry) {
    client.enqueue(entry);
    addPending(entry);
    render();
  }

  // ---- drafts, counters, typing
  function saveDraft() {
    store.set("draft", JSON.stringify({ q: q.value, name: nameField.value, email: email.value, card: card.value,
                                        ageGroup: ageGroup(), faqOptOut: faqOptOut.checked, msg: msg.value }));
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
    if (!ready() || !conv || conv.status !== "active") return;
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

  function asked(input) { return !!input && !input.closest(".field").hidden; }
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
    if (ageGroup()) entry.age_group = ageGroup();
    if (faqOptOut.checked) entry.faq_opt_out = true;
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
  faqOptOut.addEventListener("change", saveDraft);
  // Under 18 or not: the parent's notice, and whether the email is needed (renderDesk).
  startForm.addEventListener("change", function (e) {
    if (e.target.name === "age_group") { saveDraft(); render(); }
  });

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
  var pluginHook = P.plugins(window.RuangTanyaPlugins, { send: send, enqueue: enqueue, uid: uid,
    showAlert: showAlert, hideAlert: hideAlert, toBottom: toBottom,
    token: function () { return token; }, conversation: function () { return conv; } });
  /* Calls `name` on every plugin; true when one of them says it has handled the event. */
  function hook(name, a, b) { return pluginHook ? pluginHook(name, a, b) : false; }

  client = P.client({
    path: cfg.socketPath || "/ws/patron/",
    hello: function () { return { token: token, lang: LANG, last_seq: conv ? lastSeq : 0 }; },
    have: function (id) { return conv && conv.id === id ? lastSeq : null; },
    outbox: { storage: store, key: "outbox" },
    hook: hook,
    onFrame: onFrame,
    onResumed: onResumed,
    onDown: onDown
  });

  // The FAQ answers while the patron types a question (faq-suggest.js).
  if (window.RuangTanyaFAQ) {
    window.RuangTanyaFAQ.suggest({ input: q, form: startForm, answered: true, site: cfg.siteKey });
  }

  // ---- start
  var draft = store.getJSON("draft", {});
  q.value = draft.q || "";
  nameField.value = draft.name || "";
  email.value = draft.email || "";
  card.value = draft.card || "";
  setAgeGroup(draft.ageGroup);
  faqOptOut.checked = !!draft.faqOptOut;
  msg.value = draft.msg || "";
  counter(q);
  counter(msg);
  resetLog();
  render();
  autosize();
  if (!pageToken) { fatal(S.error); return; }
  client.start();
})();
