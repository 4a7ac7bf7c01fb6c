/* Ruang Tanya dashboard: a returning patron's earlier chats (docs/notes-and-history.md).
 *
 * A held chat's payload brings `history` ({count, recent}); the list shows the newest, and a click
 * opens one read-only in the chat pane from GET /staff/history/<chat>/<earlier>/ (its messages, its
 * notes, its rating). "Back" (or Escape) returns to the chat, focus to the item that opened it. The
 * chat's messages, reply box and draft stay as they were meanwhile. */
(function (app) {
  "use strict";
  if (!app) return;
  var state = app.state, t = app.t, h = app.h;

  function $(id) { return document.getElementById(id); }
  var el = {
    chat: $("chat"), panel: $("history-panel"), summary: $("history-summary"), list: $("history-list"),
    more: $("history-more"), view: $("earlier-view"), back: $("earlier-back"), title: $("earlier-title"),
    meta: $("earlier-meta"), status: $("earlier-status"), messages: $("earlier-messages"),
    comment: $("earlier-comment"), notes: $("earlier-notes"), notesList: $("earlier-notes-list")
  };
  if (!el.panel) return;

  var open = null;        // {conv: id, earlier: id} while an earlier chat is shown
  var request = null;     // the XMLHttpRequest under way
  var shownFor = null, shownHistory = null;

  function describe(item, withDate) {
    var parts = [withDate ? app.dateTime(item.created_at) : "", item.queue, item.librarian || t("nobody")];
    if (item.offline) parts.push(t("left_offline"));
    if (item.rating) parts.push(t("rated", { rating: item.rating }));
    return parts.filter(Boolean).join(" · ");
  }

  function render(conv) {
    var history = conv.history || { count: 0, recent: [] };
    if (open && open.conv !== conv.id) close(false);   // another chat was picked
    el.panel.hidden = !history.count;
    if (shownFor === conv.id && shownHistory === history) return;   // as it is: keep the list (and focus in it)
    if (shownFor !== conv.id) el.panel.open = false;
    shownFor = conv.id;
    shownHistory = history;
    el.summary.textContent = t("history_count", { count: history.count });
    var recent = history.recent || [];
    el.more.hidden = history.count <= recent.length;
    el.more.textContent = t("history_more", { shown: recent.length, count: history.count });
    el.list.textContent = "";
    recent.forEach(function (item) {
      var li = h("li", "history-item");
      var button = h("button", "history-open");
      button.type = "button";
      button.dataset.id = String(item.id);
      button.appendChild(h("span", "history-question", app.truncate(item.question, 120)));
      button.appendChild(h("span", "history-meta", describe(item, true)));
      button.addEventListener("click", function () { show(conv, item); });
      li.appendChild(button);
      el.list.appendChild(li);
    });
  }

  function show(conv, item) {
    if (request) request.abort();
    open = { conv: conv.id, earlier: item.id };
    el.chat.classList.add("showing-earlier");
    el.view.hidden = false;
    el.title.textContent = t("earlier_title", { date: app.dateTime(item.created_at) });
    el.meta.textContent = describe(item, false);   // the title has the date
    el.messages.textContent = "";
    el.comment.hidden = true;
    el.notes.hidden = true;
    el.status.textContent = t("loading");
    el.title.focus();
    var xhr = request = new XMLHttpRequest();
    xhr.open("GET", "/staff/history/" + conv.id + "/" + item.id + "/");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      request = null;
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (!open || open.earlier !== item.id) return;
      if (xhr.status !== 200 || !answer) { el.status.textContent = (answer && answer.message) || t("earlier_failed"); return; }
      fill(conv, answer);
      app.announce(t("earlier_opened", { date: app.dateTime(item.created_at) }));
    };
    xhr.onerror = function () { request = null; el.status.textContent = t("earlier_failed"); };
    xhr.send();
  }

  function fill(conv, answer) {
    el.status.textContent = "";
    (answer.messages || []).forEach(function (m) {
      var li = h("li", "msg msg-" + m.role);
      if (m.role === "system") {
        li.appendChild(h("p", "msg-notice", m.text));
        el.messages.appendChild(li);
        return;
      }
      var meta = h("p", "msg-meta");
      meta.appendChild(h("span", "msg-author", m.author || (m.role === "patron" ? app.patronName(conv) : t("librarian"))));
      var time = h("time", "msg-time", app.clock(app.parseTime(m.sent_at)));
      time.dateTime = m.sent_at || "";
      meta.appendChild(time);
      var body = h("div", "msg-body");
      app.appendText(body, m.text || (m.attachment ? m.attachment.name : ""));
      if (m.file_removed) body.appendChild(h("p", "msg-attachment file-removed muted", t("file_removed")));
      li.appendChild(meta);
      li.appendChild(body);
      el.messages.appendChild(li);
    });
    if (!el.messages.children.length) el.messages.appendChild(h("li", "msg-empty", t("no_messages")));
    el.comment.hidden = !answer.rating_comment;
    el.comment.textContent = answer.rating_comment ? t("rating_comment", { comment: answer.rating_comment }) : "";
    var notes = answer.notes || [];
    el.notes.hidden = !notes.length;
    el.notesList.textContent = "";
    notes.forEach(function (note) { el.notesList.appendChild(app.noteItem(note)); });
  }

  /* Back to the chat; `focus`: to the list item that opened the earlier chat. */
  function close(focus) {
    if (!open) return;
    var earlier = open.earlier;
    open = null;
    if (request) { request.abort(); request = null; }
    el.chat.classList.remove("showing-earlier");
    el.view.hidden = true;
    el.messages.textContent = "";
    if (focus) {
      var button = el.list.querySelector("button[data-id='" + earlier + "']");
      if (button) { el.panel.open = true; button.focus(); }
    }
  }

  el.back.addEventListener("click", function () { close(true); });
  el.view.addEventListener("keydown", function (event) { if (event.key === "Escape") close(true); });

  app.history = { render: render, close: close };
})(window.RuangTanyaDashboard);
