/* Ruang Tanya dashboard: the chats this librarian holds — the "My chats" list with the
 * capacity count, the open chat (its messages, read marks, typing, the reply box, closing).
 *
 * A held chat leaves the list through one path, removeConv: when the librarian removes a closed
 * chat, and at once when the server releases it (transferred to a colleague or a queue, or put back
 * in the queue while the librarian was away); its drafts and unsent messages go with it. */
(function (app) {
  "use strict";
  if (!app) return;
  var state = app.state, el = app.el, t = app.t, h = app.h;

  var COUNTER_FROM = 3600;          // show the character counter near the limit
  var TYPING_RESEND_MS = 3000;      // typing active:true at most this often
  var TYPING_IDLE_MS = 4000;        // typing active:false after this long without input
  var TYPING_SHOW_MS = 6000;        // hide the patron's "is typing" after this long without news
  var lastOpen = window.RuangTanyaProtocol.store("sessionStorage", "ruangtanya.dashboard.");   // this tab's

  function outbox() { return app.client.outbox; }
  function outboxFor(id) {
    return outbox().list(function (item) { return item.conversation === id; })
      .sort(function (a, b) { return a.created - b.created; });
  }

  // ---- conversations ---------------------------------------------------------------------
  function newConv(c) {
    return {
      id: c.id, status: c.status, queue: null, patron: {}, librarian: null, question: "",
      created_at: null, assigned_at: null, closed_at: null, closed_by: null, last_seq: 0,
      read: { patron: 0, librarian: 0 }, have: 0, readSent: 0,
      messages: new Map(), unread: 0, draft: "", scroll: null, closing: false, confirming: false,
      typingIn: { active: false, name: "", timer: null },
      typingOut: { active: false, sentAt: 0, idle: null },
      transferOut: null,
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
    if (typeof c.last_seq === "number") app.client.repair(conv.id, c.last_seq);
  }

  /* Store a message once (by seq). Returns true when it is new. */
  function addMessage(conv, m, live) {
    if (m.client_id && m.role === "librarian") outbox().take(m.client_id);
    var existing = conv.messages.get(m.seq);
    if (existing) {
      app.hook("stored", m, existing);
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
      var text = t("announce_message", { name: m.author || app.patronName(conv), text: app.truncate(shownText(m), 140) });
      app.announce(text);
      app.emit("message", { conversation: conv.id, text: text });
    }
    return true;
  }

  function heldCount() {
    var n = 0;
    state.convs.forEach(function (conv) { if (conv.status === "active") n += 1; });
    return n;
  }

  /* The held chats of a welcome: merged into what we have (drafts, unread counts and scroll stay). */
  function welcome(frame) {
    var held = new Set();
    (frame.conversations || []).forEach(function (c) {
      if (!c || typeof c.id !== "number") return;
      held.add(c.id);
      var conv = state.convs.get(c.id);
      var fresh = !conv;
      if (fresh) conv = addConv(c);
      mergeConv(conv, c, !fresh);
      // The server's count: patron messages after our read mark, which only a chat seen moves.
      if (typeof c.unread === "number") conv.unread = c.unread;
    });
    state.convs.forEach(function (conv) {
      if (!held.has(conv.id) && conv.status !== "closed") {
        if (state.waiting.has(conv.id)) {
          // Back in the queue while we were away: released, as if the frame had reached us.
          app.handoff.onReleased({ conversation: conv.id, reason: "offline" });
          return;
        }
        // Ones we had that the server no longer lists as ours have ended while we were away.
        conv.status = "closed";
        if (conv.closing) conv.closed_by = "librarian";
        conv.closed_at = conv.closed_at || app.isoNow();
        onClosed(conv);
      }
      conv.closing = false;   // a close that did not go through can be asked again
    });
    if (state.activeId === null && state.order.length) {
      var last = Number(lastOpen.get("active"));   // a reload opens the chat that was open
      selectConv(state.convs.has(last) ? last : state.order[0], false);
    }
  }

  /* After a welcome the protocol client re-sends what was never acknowledged, with the same
     client_id (the server dedupes); messages to chats no longer open are marked failed instead. */
  function resendable(item) {
    if (item.status !== "sending") return false;
    var conv = state.convs.get(item.conversation);
    if (conv && conv.status === "active") return true;
    item.status = "failed";
    item.error = t("reason_closed");
    return false;
  }

  function onConversation(c) {
    if (!c || typeof c.id !== "number") return;
    var conv = state.convs.get(c.id);
    if (!conv) {
      if (c.status === "queued") {
        if (state.waiting.has(c.id)) { state.waiting.set(c.id, mergePayload(state.waiting.get(c.id), c)); app.queue.render(); }
        return;
      }
      if (c.status === "closed") {
        if (state.waiting.delete(c.id)) app.queue.render();
        return;
      }
      // Active and sent to us: claimed here or in another of our tabs.
      conv = addConv(c);
      mergeConv(conv, c, false);
      state.waiting.delete(c.id);
      if (state.pendingClaims.has(c.id)) {
        state.pendingClaims.delete(c.id);
        selectConv(c.id, true);
        app.announce(t("announce_opened", { name: app.patronName(conv) }));
      } else if (state.activeId === null) {
        selectConv(c.id, false);
      }
      app.renderAll();
      return;
    }
    var wasClosed = conv.status === "closed";
    mergeConv(conv, c, true);
    state.waiting.delete(c.id);
    state.pendingClaims.delete(c.id);
    if (!wasClosed && conv.status === "closed") onClosed(conv);
    app.renderAll();
  }

  function stopTimers(conv) {
    conv.typingIn.active = false;
    clearTimeout(conv.typingIn.timer);
    conv.typingOut.active = false;
    clearTimeout(conv.typingOut.idle);
  }

  function onClosed(conv) {
    conv.closing = false;
    stopTimers(conv);
    conv.confirming = false;
    if (conv.closed_by === "patron") app.announce(t("announce_closed", { name: app.patronName(conv) }));
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
  }

  /* The answer to a fetch (a gap repair or a plugin's link renewal). */
  function onMessages(frame) {
    var conv = state.convs.get(frame.conversation);
    if (!conv) return;
    (frame.messages || []).forEach(function (m) { addMessage(conv, m, true); });
    renderConv(conv);
  }

  function onRead(frame) {
    var conv = state.convs.get(frame.conversation);
    if (!conv || typeof frame.seq !== "number") return;
    if (frame.role === "patron") {
      conv.read.patron = Math.max(conv.read.patron || 0, frame.seq);
      renderConv(conv);
    } else if (frame.role === "librarian") {   // read in another of our tabs
      conv.readSent = Math.max(conv.readSent, frame.seq);
      if (conv.readSent >= conv.have && conv.unread) { conv.unread = 0; renderList(); }
    }
  }

  /* Tell the patron what we have seen: the open chat, in a visible tab. */
  function reportRead(conv) {
    if (!app.ready() || document.hidden || conv.id !== state.activeId || conv.have <= conv.readSent) return;
    if (app.send({ type: "read", conversation: conv.id, seq: conv.have })) conv.readSent = conv.have;
  }

  function onTyping(frame) {
    if (frame.role !== "patron") return;   // our own typing from another tab is not news
    var conv = state.convs.get(frame.conversation);
    if (!conv || conv.status === "closed") return;
    clearTimeout(conv.typingIn.timer);
    conv.typingIn.active = !!frame.active;
    if (frame.author) conv.typingIn.name = frame.author;
    if (conv.typingIn.active) {
      conv.typingIn.timer = setTimeout(function () { conv.typingIn.active = false; renderTyping(); renderList(); }, TYPING_SHOW_MS);
    }
    renderTyping();
    renderList();
  }

  /* Stored: the ack carries the message as the patron sees it (this socket gets no copy); the
     protocol client has taken it out of the outbox. */
  function onAck(frame) {
    onMessage(frame.message, false);
  }

  /* An error about one of our messages (its ref is the client_id): shown failed, with the reason. */
  function onRefused(frame, item) {
    var text = frame.message || t("unknown_error");
    item.status = "failed";
    item.error = text;
    outbox().save();
    var conv = state.convs.get(item.conversation);
    if (!conv) return;
    if (frame.code === "conversation_closed" && conv.status !== "closed") {
      conv.status = "closed";
      conv.closed_at = conv.closed_at || app.isoNow();
      onClosed(conv);
    }
    app.renderAll();
    app.showAlert(conv.id === state.activeId ? el.chatAlerts : el.globalAlerts, text);
  }

  /* The pong after a close came back: the close went through unless an error came before it. */
  function onCloseAnswered(marker) {
    var conv = state.convs.get(marker.id);
    if (!conv) return;
    if (marker.error && marker.error.code !== "conversation_closed") {
      conv.closing = false;
      app.renderAll();
      return;
    }
    // Should the closed frame not reach us, we still show the chat as closed.
    if (conv.status !== "closed") {
      conv.status = "closed";
      conv.closed_by = marker.error ? conv.closed_by : "librarian";
      conv.closed_at = conv.closed_at || app.isoNow();
      onClosed(conv);
      app.renderAll();
    }
  }

  function onCloseError(frame) {
    var closeMarker = app.client.firstMarker("close");
    if (closeMarker) closeMarker.error = frame;
    var closing = closeMarker ? state.convs.get(closeMarker.id) : null;
    if (closing && frame.code === "conversation_closed") return;   // the patron closed it first: fine
    if (closing) closing.closing = false;
    app.showAlert(closing && closing.id === state.activeId ? el.chatAlerts : el.globalAlerts, frame.message || t("unknown_error"));
    app.renderAll();
  }

  /* The socket is gone: nothing we were typing is being announced any more. */
  function onDown() {
    state.convs.forEach(function (conv) {
      conv.typingOut.active = false;
      clearTimeout(conv.typingOut.idle);
    });
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
    lastOpen.set("active", String(id));
    var conv = state.convs.get(id);
    if (conv) {
      conv.unread = 0;
      el.input.value = conv.draft || "";
      app.clearAlert(el.chatAlerts);
    }
    app.renderAll();
    if (conv) {
      if (conv.scroll === null) scrollToBottom();
      else el.messages.scrollTop = conv.scroll;
      if (focus) {
        if (conv.status === "active") el.input.focus();
        else el.chatTitle.focus();
      }
    }
  }

  /* The librarian removes a chat that has ended. */
  function dismissConv(id) {
    var conv = state.convs.get(id);
    if (!conv || conv.status !== "closed") return;
    removeConv(id);
  }

  /* The one way out of "My chats" (closed and dismissed, or released by the server): the chat, its
     draft, its unsent messages and its timers go; the capacity count follows at once. `released`:
     the server took it from us (it may be waiting in one of our queues now). */
  function removeConv(id, released) {
    var conv = state.convs.get(id);
    if (!conv) return;
    var entry = chatEls.get(id);
    var wasActive = state.activeId === id;
    var focused = document.activeElement;
    var hadFocus = !!focused && ((wasActive && el.chat.contains(focused)) || (entry && entry.li.contains(focused)));
    stopTimers(conv);
    state.convs.delete(id);
    state.order = state.order.filter(function (x) { return x !== id; });
    state.pendingClaims.delete(id);
    outbox().remove(function (item) { return item.conversation === id; });
    if (wasActive) {
      state.activeId = null;
      el.input.value = "";        // its draft
      app.handoff.closeTransfer(false);
      if (state.order.length) selectConv(state.order[0], false);
    }
    if (released) app.queue.unpark(id);
    app.renderAll();
    if (hadFocus) {
      var first = el.chatList.querySelector("button.chat-item");
      if (first) first.focus();
    }
  }

  // ---- actions ---------------------------------------------------------------------------
  function sendMessage() {
    var conv = state.convs.get(state.activeId);
    if (!conv || conv.status !== "active") return;
    var text = el.input.value.trim();
    if (!text) { app.showAlert(el.chatAlerts, t("empty_message")); return; }
    if (text.length > app.MAX_LENGTH) return;
    app.clearAlert(el.chatAlerts);
    sendTyping(conv, false);
    el.input.value = "";
    conv.draft = "";
    renderCounter();
    queueMessage(conv, text, null);
  }

  /* Into the outbox, and out now if connected; `extra`: {attachment: id, file: {name, size, type}}. */
  function queueMessage(conv, text, extra) {
    if (state.convs.get(conv.id) !== conv) return;   // no longer ours (an upload that ended after a release)
    var item = Object.assign({ client_id: window.RuangTanyaProtocol.uid(), conversation: conv.id, text: text,
                               created: Date.now(), status: "sending", error: null }, extra);
    app.client.enqueue(item);
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
    if (app.ready() && conv.status === "active") app.send({ type: "typing", conversation: conv.id, active: active });
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
    render();
    el.closeNo.focus();
  }
  function cancelClose() {
    var conv = state.convs.get(state.activeId);
    if (conv) conv.confirming = false;
    render();
    el.closeButton.focus();
  }
  function confirmClose() {
    var conv = state.convs.get(state.activeId);
    if (!conv || conv.status !== "active") return;
    if (!app.ready()) { app.showAlert(el.chatAlerts, t("not_connected")); return; }
    conv.confirming = false;
    conv.closing = true;
    sendTyping(conv, false);
    app.send({ type: "close", conversation: conv.id });
    app.client.ping("close", conv.id); // errors before its pong are the close's
    app.renderAll();
    el.chatTitle.focus();
  }

  // ---- the "My chats" list ---------------------------------------------------------------
  var chatEls = new Map();
  function renderList() {
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

  /* The home library of a chat answered under a cover agreement (cover.js). */
  function coverHome(conv) { return (conv.cover && conv.cover.home_library && conv.cover.home_library.name) || ""; }

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
    entry.name.textContent = app.patronName(conv);
    entry.badge.hidden = !conv.unread;
    entry.badgeNumber.textContent = String(conv.unread);
    entry.badgeLabel.textContent = t("unread", { count: conv.unread });
    var statusText = conv.status === "closed" ? t("closed") : conv.closing ? t("closing") : conv.typingIn.active ? t("typing_short") : "";
    entry.status.textContent = statusText;
    entry.status.className = "ci-status" + (conv.status === "closed" ? " is-closed" : conv.typingIn.active ? " is-typing" : "");
    var last = lastMessage(conv);
    var preview = last ? (last.role === "librarian" ? t("you") + ": " : "") + app.truncate(shownText(last), 80) : app.truncate(conv.question, 80);
    var where = conv.cover ? t("cover_badge", { library: coverHome(conv) }) : (conv.queue && conv.queue.name) || "";
    entry.preview.textContent = (where ? where + " · " : "") + preview;
    entry.li.classList.toggle("is-covered", !!conv.cover);
    entry.remove.hidden = conv.status !== "closed";
    entry.remove.setAttribute("aria-label", t("remove_label", { name: app.patronName(conv) }));
    entry.remove.title = t("remove_label", { name: app.patronName(conv) });
  }

  // ---- the open chat ---------------------------------------------------------------------
  function render() {
    var conv = state.convs.get(state.activeId);
    el.placeholder.hidden = !!conv;
    el.chat.hidden = !conv;
    if (!conv) return;
    el.chatTitle.textContent = app.patronName(conv);

    el.chatMeta.textContent = "";
    var email = conv.patron && conv.patron.email;
    if (email) {
      var a = h("a", "chat-email", email);
      a.href = "mailto:" + email;
      el.chatMeta.appendChild(a);
    }
    if (conv.patron && conv.patron.card) el.chatMeta.appendChild(h("span", "tag", t("card", { number: conv.patron.card })));
    if (conv.patron && conv.patron.age_group === "child") el.chatMeta.appendChild(h("span", "tag tag-child", t("child")));
    if (conv.queue && conv.queue.name) el.chatMeta.appendChild(h("span", "tag", conv.queue.name));
    if (conv.cover) el.chatMeta.appendChild(h("span", "tag tag-cover", t("cover_badge", { library: coverHome(conv) })));
    el.chatMeta.appendChild(h("span", "chat-times"));
    tick();
    el.chatQuestion.textContent = conv.question || "";

    var closed = conv.status === "closed";
    el.closeButton.hidden = closed;
    app.handoff.renderNotes(conv);
    if (app.notes) app.notes.render(conv);       // internal notes and earlier chats (notes.js, history.js)
    if (app.history) app.history.render(conv);
    if (closed) app.handoff.closeTransfer(false);
    el.closeButton.disabled = conv.closing || !app.ready();
    el.closeButton.textContent = conv.closing ? t("closing") : t("close_chat");
    el.closeConfirm.hidden = !conv.confirming || closed;
    el.closedBanner.hidden = !closed;
    if (closed) {
      var time = app.clock(app.parseTime(conv.closed_at));
      el.closedText.textContent = conv.closed_by === "patron" ? t("closed_by_patron", { time: time })
        : conv.closed_by === "librarian" ? t("closed_by_librarian", { time: time })
        : conv.closed_by === "system" ? t("closed_by_system", { time: time })
        : t("closed_unknown");
    }
    el.composer.hidden = closed;
    el.composerLabel.textContent = t("message_to", { name: app.patronName(conv) });
    el.sendButton.disabled = app.stopped();
    el.input.disabled = app.stopped();
    renderCounter();
    renderConv(conv);
    renderTyping();
    app.hook("render", conv);   // plugins' parts of the open chat (assessment.js)
  }

  /* Every second: when the chat was asked, how long the patron waited, how long it has been open. */
  function tick() {
    var conv = state.convs.get(state.activeId);
    if (!conv) return;
    var holder = el.chatMeta.querySelector(".chat-times");
    if (!holder) return;
    var created = app.parseTime(conv.created_at), assigned = app.parseTime(conv.assigned_at), closed = app.parseTime(conv.closed_at);
    var parts = [];
    if (!isNaN(created)) parts.push(t("asked_at", { time: app.clock(created) }));
    if (!isNaN(created) && !isNaN(assigned)) parts.push(t("waited", { duration: app.duration(assigned - created) }));
    if (!isNaN(assigned)) {
      var end = conv.status === "closed" ? (isNaN(closed) ? assigned : closed) : app.now();
      parts.push(t("open_for", { duration: app.duration(end - assigned) }));
    }
    var text = parts.join(" · ");
    if (holder.textContent !== text) holder.textContent = text;
  }

  function renderCounter() {
    var length = el.input.value.length;
    var left = app.MAX_LENGTH - length;
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
      var text = t("typing", { name: conv.typingIn.name || app.patronName(conv) });
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
    renderList();
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
      app.appendText(notice, m.text);
      var stamp = h("time", "msg-time", app.clock(app.parseTime(m.sent_at)));
      stamp.dateTime = m.sent_at || "";
      notice.appendChild(document.createTextNode(" · "));
      notice.appendChild(stamp);
      li.appendChild(notice);
      return li;
    }
    var meta = h("p", "msg-meta");
    var author;
    if (role === "patron") author = (m && m.author) || app.patronName(conv);
    else author = (m && m.author) || state.me.name || t("librarian");
    meta.appendChild(h("span", "msg-author", author));
    if (m) {
      var time = h("time", "msg-time", app.clock(app.parseTime(m.sent_at)));
      time.dateTime = m.sent_at || "";
      meta.appendChild(time);
    }
    var body = h("div", "msg-body");
    app.appendText(body, m ? m.text : pending.text);
    app.hook("message", body, m ? m.attachment : pending.file);
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
          outbox().take(pending.client_id);
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
  el.jumpLatest.addEventListener("click", function () { scrollToBottom(); el.input.focus(); });
  el.messages.addEventListener("scroll", function () { if (atBottom()) el.jumpLatest.hidden = true; });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) return;
    var conv = state.convs.get(state.activeId);
    if (conv && conv.unread) { conv.unread = 0; renderList(); }
    if (conv) reportRead(conv);
  });

  app.chat = {
    welcome: welcome, resendable: resendable, messageFrame: messageFrame,
    onConversation: onConversation, onMessage: onMessage, onMessages: onMessages, onRead: onRead,
    onTyping: onTyping, onAck: onAck, onRefused: onRefused, onCloseAnswered: onCloseAnswered,
    onCloseError: onCloseError, onDown: onDown,
    active: function () { return state.convs.get(state.activeId) || null; },
    have: function (id) { var conv = state.convs.get(id); return conv ? conv.have : null; },
    resumePoints: function () {
      // For each chat still open here, the last seq we hold without a gap: the welcome brings the rest.
      var since = {};
      state.convs.forEach(function (conv) { if (conv.status !== "closed") since[conv.id] = conv.have; });
      return since;
    },
    select: selectConv, remove: removeConv, queueMessage: queueMessage,
    render: render, renderList: renderList, tick: tick
  };
})(window.RuangTanyaDashboard);
