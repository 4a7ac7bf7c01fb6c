/* Ruang Tanya dashboard: a chat answered for another library under a cover agreement (docs/network.md).
 *
 * A held chat whose payload has `cover` (null for the librarian's own library's chats) shows a panel
 * above its messages: "Answering for <home library>", the agreement's notes for covering staff (as
 * text, line breaks kept) and two ways to hand the chat back:
 *   - "Send back to <home library>": one of `cover.return_queues` and a note, sent as the `transfer`
 *     frame with `to_queue` (its errors, ref "transfer", are handoff.js's; the chat then leaves
 *     through `conversation.released` like any transfer);
 *   - "Leave for <home library> to answer by email": `return.offline` with a note. The server ends
 *     the live chat for the patron and leaves the question in the home library's offline list; an
 *     `error` whose ref is "return.offline" (such as `patron_email_missing`: the patron gave no address) is
 *     shown in the form, which stays open.
 * It hooks into the dashboard as a plugin: the `frame` hook (before main.js) and the `render` hook of
 * chat.js. Server text is only ever inserted as text. */
(function (app) {
  "use strict";
  if (!app || !document.getElementById("cover-panel")) return;
  var state = app.state, t = app.t, h = app.h;
  function $(id) { return document.getElementById(id); }
  var el = {
    panel: $("cover-panel"), title: $("cover-title"), notesBox: $("cover-notes-box"), notes: $("cover-notes"),
    actions: $("cover-actions"), back: $("cover-back-button"), offline: $("cover-offline-button"),
    form: $("cover-form"), formTitle: $("cover-form-title"), help: $("cover-offline-help"),
    queueField: $("cover-queue-field"), queue: $("cover-queue"), noteLabel: $("cover-note-label"), note: $("cover-note"),
    send: $("cover-send"), cancel: $("cover-cancel"), status: $("cover-status")
  };

  var openFor = null;   // {id, mode: "back" | "offline"} of the open form
  var pending = null;   // {id, name, library} of a return.offline sent and not yet answered

  function say(text, isError) {
    el.status.textContent = text || "";
    el.status.classList.toggle("is-error", !!isError);
  }

  function active() { return state.convs.get(state.activeId) || null; }
  function homeName(conv) { return (conv && conv.cover && conv.cover.home_library && conv.cover.home_library.name) || ""; }
  function returnQueues(conv) { return (conv && conv.cover && Array.isArray(conv.cover.return_queues)) ? conv.cover.return_queues : []; }

  function open(mode) {
    var conv = active();
    if (!conv || !conv.cover || conv.status !== "active") return;
    if (openFor && openFor.id === conv.id && openFor.mode === mode) { cancel(); return; }
    openFor = { id: conv.id, mode: mode };
    say("");
    el.queue.textContent = "";
    returnQueues(conv).forEach(function (q) {
      var option = h("option", "", q.name);
      option.value = String(q.id);
      el.queue.appendChild(option);
    });
    if (mode === "back" && !el.queue.options.length) say(t("no_return_queue", { library: homeName(conv) }), true);
    render(conv);
    (mode === "back" && el.queue.options.length > 1 ? el.queue : el.note).focus();
  }

  function cancel() {
    var mode = openFor && openFor.mode;
    openFor = null;
    el.note.value = "";
    say("");
    render(active());
    (mode === "offline" ? el.offline : el.back).focus();
  }

  function submit() {
    var conv = active();
    if (!conv || !conv.cover || conv.status !== "active" || !openFor || openFor.id !== conv.id) return;
    if (!app.ready()) { say(t("not_connected"), true); return; }
    var note = el.note.value.trim();
    if (openFor.mode === "back") {
      var queue = Number(el.queue.value);
      if (!queue) { say(t("no_return_queue", { library: homeName(conv) }), true); return; }
      if (app.send({ type: "transfer", conversation: conv.id, to_queue: queue, note: note })) {
        openFor = null;
        el.note.value = "";
        render(conv);
      }
      return;
    }
    pending = { id: conv.id, name: app.patronName(conv), library: homeName(conv) };
    say(t("cover_sending"));
    el.send.disabled = true;
    app.send({ type: "return.offline", conversation: conv.id, note: note });
  }

  function render(conv) {
    var covered = !!conv && !!conv.cover;
    el.panel.hidden = !covered;
    if (!covered) {
      el.form.hidden = true;
      return;
    }
    var library = homeName(conv);
    el.title.textContent = t("answering_for", { library: library });
    var notes = conv.cover.policy_notes || "";
    el.notesBox.hidden = !notes.trim();
    if (el.notes.textContent !== notes) el.notes.textContent = notes;   // shown with its line breaks (cover.css)
    var usable = conv.status === "active";
    el.actions.hidden = !usable;
    el.back.textContent = t("send_back", { library: library });
    el.offline.textContent = t("leave_offline", { library: library });
    el.back.disabled = el.offline.disabled = !app.ready();
    if (openFor && openFor.id !== conv.id) { openFor = null; el.note.value = ""; say(""); }
    var mode = usable && openFor ? openFor.mode : null;
    el.form.hidden = !mode;
    el.back.setAttribute("aria-expanded", mode === "back" ? "true" : "false");
    el.offline.setAttribute("aria-expanded", mode === "offline" ? "true" : "false");
    if (!mode) return;
    el.formTitle.textContent = t(mode === "back" ? "send_back_title" : "leave_offline_title", { library: library });
    el.help.hidden = mode !== "offline";
    el.help.textContent = t("leave_offline_help", { library: library });
    el.queueField.hidden = mode !== "back" || el.queue.options.length < 2;
    el.noteLabel.textContent = t("cover_note_label", { library: library });
    el.send.textContent = t(mode === "back" ? "send_back_short" : "leave_offline_short");
    el.send.disabled = !!pending && pending.id === conv.id;
  }

  /* The server ended the chat we left for email: say where the question went. */
  function done() {
    app.showAlert(app.el.globalAlerts, t("left_offline_done", { name: pending.name, library: pending.library }), "info");
    app.announce(t("left_offline_done", { name: pending.name, library: pending.library }));
    pending = null;
    openFor = null;
    el.note.value = "";
    say("");
    el.send.disabled = false;
  }

  el.back.addEventListener("click", function () { open("back"); });
  el.offline.addEventListener("click", function () { open("offline"); });
  el.cancel.addEventListener("click", cancel);
  el.form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
  el.form.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); cancel(); }
  });

  (window.RuangTanyaDashboardPlugins = window.RuangTanyaDashboardPlugins || []).push(function () {
    return {
      frame: function (frame) {
        if (frame.type === "error" && frame.ref === "return.offline") {
          pending = null;
          el.send.disabled = false;
          say(frame.message || t("unknown_error"), true);
          return true;
        }
        if (!pending) return false;
        if (frame.type === "conversation" && frame.conversation && frame.conversation.id === pending.id &&
            frame.conversation.status === "closed") {
          done();
          return false;   // chat.js shows the chat as closed
        }
        if (frame.type === "conversation.released" && frame.conversation === pending.id) {
          done();
          app.chat.remove(frame.conversation, true);
          return true;    // not "went back to the queue": our message says where it went
        }
        return false;
      },
      render: render
    };
  });

  app.cover = { render: render };
})(window.RuangTanyaDashboard);
