/* Ruang Tanya dashboard: internal notes on the open chat (docs/notes-and-history.md).
 *
 * A held chat's payload brings `notes` (its own and its patron's); the `note` frame brings each new
 * one, to every tab of the holder. The form sends `note` with a client_id: the `note` frame that
 * carries it back says it was stored, an `error` whose ref is that client_id says why not (the text
 * stays in the box). Patrons never receive notes: the server sends them to the holder's tabs only.
 * Note text is inserted as text, never as HTML. */
(function (app) {
  "use strict";
  if (!app) return;
  var state = app.state, t = app.t, h = app.h;
  var NOTE_MAX = 2000;

  function $(id) { return document.getElementById(id); }
  var el = {
    panel: $("notes-panel"), count: $("notes-count"), empty: $("notes-empty"), list: $("notes-list"),
    form: $("note-form"), text: $("note-text"), send: $("note-send"), status: $("note-status")
  };
  if (!el.panel) return;

  var pending = new Map();   // client_id -> conversation id of a note on its way
  var shownFor = null;       // the conversation the panel shows

  var dateFormat = (function () {
    var options = { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
                    timeZone: app.config.timeZone };
    var lang = document.documentElement.lang || "id";
    try { return new Intl.DateTimeFormat(lang, options); } catch (e) { delete options.timeZone; }
    return new Intl.DateTimeFormat(lang, options);
  })();
  app.dateTime = function (iso) {
    var ms = app.parseTime(iso);
    return isNaN(ms) ? "" : dateFormat.format(new Date(ms));
  };

  /* One note as a list item: who, when, what about, and the text (as text). */
  app.noteItem = function (note) {
    var li = h("li", "note-item note-" + note.about);
    var meta = h("p", "note-meta");
    meta.appendChild(h("span", "note-author", note.author || t("librarian")));
    var time = h("time", "note-time", app.dateTime(note.created_at));
    time.dateTime = note.created_at || "";
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(time);
    meta.appendChild(h("span", "tag note-about-tag", note.about === "patron" ? t("note_about_patron") : t("note_about_chat")));
    li.appendChild(meta);
    var body = h("p", "note-text");
    app.appendText(body, note.text);
    li.appendChild(body);
    return li;
  };

  function render(conv) {
    var list = Array.isArray(conv.notes) ? conv.notes : [];
    if (shownFor !== conv.id) {
      shownFor = conv.id;
      // Open when there is something to read (a colleague's notes after a transfer), unless the
      // librarian chose otherwise for this chat.
      el.panel.open = conv.notesOpen === undefined ? list.length > 0 : conv.notesOpen;
      el.text.value = conv.noteDraft || "";
      el.form.querySelector("input[name='note-about'][value='conversation']").checked = true;
      el.status.textContent = "";
      el.status.classList.remove("is-error");
    }
    el.count.textContent = String(list.length);
    el.empty.hidden = list.length > 0;
    el.list.textContent = "";
    list.forEach(function (note) { el.list.appendChild(app.noteItem(note)); });
    el.send.disabled = !app.ready();
  }

  function submit() {
    var conv = app.chat.active();
    if (!conv) return;
    var text = el.text.value.trim();
    el.status.classList.remove("is-error");
    if (!text) { fail(t("note_empty")); el.text.focus(); return; }
    if (text.length > NOTE_MAX || !app.ready()) { if (!app.ready()) fail(t("not_connected")); return; }
    var about = el.form.querySelector("input[name='note-about']:checked");
    var clientId = "note-" + window.RuangTanyaProtocol.uid();
    pending.set(clientId, conv.id);
    app.send({ type: "note", conversation: conv.id, text: text, about: about ? about.value : "conversation", client_id: clientId });
    el.status.textContent = t("note_saving");
    el.send.disabled = true;
  }

  function fail(text) {
    el.status.textContent = text;
    el.status.classList.add("is-error");
  }

  function onNote(frame) {
    var conv = state.convs.get(frame.conversation);
    var mine = pending.get(frame.client_id);
    pending.delete(frame.client_id);
    if (!conv || !frame.note) return;
    conv.notes = Array.isArray(conv.notes) ? conv.notes : [];
    if (!conv.notes.some(function (n) { return n.id === frame.note.id; })) conv.notes.push(frame.note);
    if (mine === conv.id) {
      conv.noteDraft = "";
      if (conv.id === state.activeId) {
        el.text.value = "";
        el.status.textContent = t("note_saved");
      }
    }
    if (conv.id === state.activeId) render(conv);
  }

  function onRefused(frame) {
    var convId = pending.get(frame.ref);
    pending.delete(frame.ref);
    el.send.disabled = !app.ready();
    if (convId === state.activeId) { fail(frame.message || t("unknown_error")); el.text.focus(); }
  }

  el.form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
  el.text.addEventListener("input", function () {
    var conv = app.chat.active();
    if (conv) conv.noteDraft = el.text.value;
  });
  el.text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); submit(); }
  });
  el.panel.addEventListener("toggle", function () {
    var conv = app.chat.active();
    if (conv && conv.id === shownFor) conv.notesOpen = el.panel.open;
  });

  // `note` frames and the errors of our notes, before the dashboard's own frame handling (main.js).
  (window.RuangTanyaDashboardPlugins = window.RuangTanyaDashboardPlugins || []).push(function () {
    return {
      frame: function (frame) {
        if (frame.type === "note") { onNote(frame); return true; }
        if (frame.type === "error" && pending.has(frame.ref)) { onRefused(frame); return true; }
        return false;
      }
    };
  });

  app.notes = { render: render };
})(window.RuangTanyaDashboard);
