/* Ruang Tanya dashboard: the waiting list ("Waiting") and claiming a chat from it.
 *
 * Chats of another library that this librarian may take under a cover agreement (their payload's
 * `cover` is not null; docs/network.md) wait in sections of their own below the library's own, one
 * per home library ("Covering for …"), each chat with a badge naming that library. `cover.waiting`
 * brings the complete list of them at any time: it replaces those sections. */
(function (app) {
  "use strict";
  if (!app) return;
  var state = app.state, el = app.el, t = app.t, h = app.h;
  // Chats announced as waiting while we still hold them: the announcement and our release travel
  // on different streams, either may come first. Kept until the release (unpark) or a removal.
  var parked = new Map();

  function welcome(frame) {
    // The waiting list is rebuilt from scratch.
    state.waiting.clear();
    parked.clear();
    (frame.waiting || []).forEach(function (c) { if (c && c.status !== "closed") state.waiting.set(c.id, c); });
  }

  function onAdded(c) {
    if (!c || typeof c.id !== "number" || c.status === "closed") return;
    if (state.convs.has(c.id) && state.convs.get(c.id).status !== "queued") { parked.set(c.id, c); return; }
    var isNew = !state.waiting.has(c.id);
    state.waiting.set(c.id, Object.assign({}, state.waiting.get(c.id) || {}, c));
    if (isNew) {
      var text = t("announce_waiting", { name: app.patronName(c), question: app.truncate(c.question, 140) });
      app.announce(text);
      app.emit("waiting", { conversation: c.id, text: text });
    }
    render();
  }

  /* `cover.waiting`: every covered chat this dashboard may take now; the ones not listed are gone. */
  function onCoverWaiting(list) {
    var fresh = new Map();
    (Array.isArray(list) ? list : []).forEach(function (c) {
      if (c && typeof c.id === "number" && c.status !== "closed" && c.cover) fresh.set(c.id, c);
    });
    state.waiting.forEach(function (c, id) { if (c.cover && !fresh.has(id)) state.waiting.delete(id); });
    fresh.forEach(function (c, id) {
      if (state.convs.has(id) && state.convs.get(id).status !== "queued") return;   // ours already
      var isNew = !state.waiting.has(id);
      state.waiting.set(id, Object.assign({}, state.waiting.get(id) || {}, c));
      if (isNew) {
        var text = t("announce_waiting", { name: app.patronName(c), question: app.truncate(c.question, 140) });
        app.announce(text);
        app.emit("waiting", { conversation: id, text: text });
      }
    });
    render();
  }

  function onRemoved(id) {
    parked.delete(id);
    if (state.waiting.delete(id)) render();
  }

  /* A held chat was released: if it was announced as waiting meanwhile, it waits now. */
  function unpark(id) {
    var c = parked.get(id);
    parked.delete(id);
    if (c && !state.convs.has(id)) onAdded(c);
  }

  function claim(id) {
    if (!app.ready()) { app.showAlert(el.queueAlerts, t("not_connected")); return; }
    app.clearAlert(el.queueAlerts);
    state.pendingClaims.add(id);
    app.send({ type: "claim", conversation: id });
    app.client.ping("claim", id); // errors before its pong are the claim's
    render();
  }

  /* An error answering a claim (ref "claim"): the oldest claim still waiting for its pong. */
  function onClaimError(frame) {
    var code = frame.code || "";
    var marker = app.client.firstMarker("claim");
    var id = marker ? marker.id : null;
    if (marker) marker.error = frame;
    if (id !== null) {
      state.pendingClaims.delete(id);
      if (code === "already_claimed" || code === "conversation_closed" || code === "not_found" || code === "not_member") {
        state.waiting.delete(id);   // a queue.removed comes too; do not wait for it
      }
    }
    app.showAlert(el.queueAlerts, frame.message || t("unknown_error"));
    render();
  }

  function waitClass(ms) {
    if (ms >= 5 * 60000) return "wait-long";
    if (ms >= 2 * 60000) return "wait-mid";
    return "";
  }

  var queueEls = new Map();
  var groups = new Map();   // home library id -> {section, title, list}: the "Covering for …" sections

  function homeOf(c) { return (c.cover && c.cover.home_library) || {}; }

  /* The list a waiting chat goes in: the library's own, or its home library's section. */
  function listFor(c) {
    if (!c.cover) return el.queueList;
    var home = homeOf(c), key = String(home.id);
    var group = groups.get(key);
    if (!group) {
      var section = h("section", "cover-group");
      var title = h("h3", "cover-group-title");
      title.id = "cover-group-" + key;
      var list = h("ol", "queue-list cover-list");
      list.setAttribute("aria-labelledby", title.id);
      section.appendChild(title);
      section.appendChild(list);
      group = { section: section, title: title, list: list };
      groups.set(key, group);
    }
    var text = t("covering_for", { library: home.name || "" });
    if (group.title.textContent !== text) group.title.textContent = text;
    return group.list;
  }

  function render() {
    var items = Array.from(state.waiting.values()).sort(function (a, b) {
      return (app.parseTime(a.created_at) - app.parseTime(b.created_at)) || (a.id - b.id);
    });
    el.waitingCount.textContent = String(items.length);
    el.waitingCount.classList.toggle("has-items", items.length > 0);
    el.queueEmpty.hidden = items.length > 0;
    var keep = new Set(), filled = new Map(), usedGroups = [];
    items.forEach(function (c) {
      keep.add(c.id);
      var list = listFor(c);
      var index = filled.get(list) || 0;
      filled.set(list, index + 1);
      if (c.cover && usedGroups.indexOf(list.parentNode) === -1) usedGroups.push(list.parentNode);
      var entry = queueEls.get(c.id);
      if (!entry) { entry = buildItem(c); queueEls.set(c.id, entry); }
      updateItem(entry, c);
      if (list.children[index] !== entry.li) list.insertBefore(entry.li, list.children[index] || null);
    });
    queueEls.forEach(function (entry, id) {
      if (!keep.has(id)) {
        var hadFocus = entry.li.contains(document.activeElement);
        entry.li.remove();
        queueEls.delete(id);
        if (hadFocus) { var b = el.queueList.querySelector("button") || el.coverWaiting.querySelector("button") || el.queueEmpty; if (b.focus) b.focus(); }
      }
    });
    // The sections in the order of their longest-waiting chat; an emptied one goes.
    usedGroups.forEach(function (section, index) {
      if (el.coverWaiting.children[index] !== section) el.coverWaiting.insertBefore(section, el.coverWaiting.children[index] || null);
    });
    groups.forEach(function (group, key) {
      if (usedGroups.indexOf(group.section) === -1) { group.section.remove(); groups.delete(key); }
    });
    tick();
    app.renderTitle();
  }

  function buildItem(c) {
    var li = h("li", "queue-item");
    li.dataset.conversation = c.id;
    var main = h("div", "qi-main");
    var question = h("p", "qi-question");
    var meta = h("p", "qi-meta");
    var name = h("span", "qi-name");
    var queue = h("span", "tag");
    var cover = h("span", "tag tag-cover");
    meta.appendChild(name);
    meta.appendChild(cover);
    meta.appendChild(queue);
    var note = h("p", "qi-note");
    main.appendChild(question);
    main.appendChild(meta);
    main.appendChild(note);
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
    return { li: li, question: question, name: name, queue: queue, cover: cover, note: note, wait: wait, waitTime: waitTime,
             button: button, c: c };
  }

  function updateItem(entry, c) {
    entry.c = c;
    entry.question.textContent = app.truncate(c.question, 280);
    entry.name.textContent = app.patronName(c);
    entry.queue.textContent = (c.queue && c.queue.name) || "";
    var home = homeOf(c);
    entry.cover.hidden = !c.cover;
    entry.cover.textContent = c.cover ? t("cover_badge", { library: home.name || "" }) : "";
    entry.cover.title = c.cover ? t("cover_badge_title", { library: home.name || "" }) : "";
    entry.li.classList.toggle("is-covered", !!c.cover);
    // A chat handed to the queue with a note (a colleague's, or a covering library's on sending it back).
    var noted = (c.transfers || []).filter(function (tr) { return tr.note; });
    var last = noted[noted.length - 1];
    entry.note.hidden = !last;
    entry.note.textContent = last ? t("note_line", { from: last.from, to: last.to || last.to_queue || "", note: last.note }) : "";
    var pending = state.pendingClaims.has(c.id);
    entry.button.textContent = pending ? t("claiming") : t("claim");
    entry.button.disabled = pending || !app.ready();
    entry.button.setAttribute("aria-label", pending ? t("claiming") : t("claim_label", { name: app.patronName(c) }));
    entry.waitTime.dateTime = c.created_at || "";
  }

  /* Every second: how long each patron has waited. */
  function tick() {
    var current = app.now();
    queueEls.forEach(function (entry) {
      var ms = current - app.parseTime(entry.c.created_at);
      if (isNaN(ms)) return;
      var text = app.duration(ms);
      if (entry.waitTime.textContent !== text) entry.waitTime.textContent = text;
      var label = t("waiting_for", { duration: text });
      entry.wait.title = label;
      entry.wait.className = "qi-wait " + waitClass(ms);
    });
  }

  app.queue = { welcome: welcome, onAdded: onAdded, onRemoved: onRemoved, onCoverWaiting: onCoverWaiting, unpark: unpark,
                claim: claim, onClaimError: onClaimError,
                render: render, tick: tick };
})(window.RuangTanyaDashboard);
