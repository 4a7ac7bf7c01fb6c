/* Ruang Tanya dashboard: "Block patron" in the open chat (docs/limits.md, reference/blocking.py).
 *
 * The button in the chat's header opens a small form: for how long (15 minutes, 1 hour, 1 day), an
 * optional reason for colleagues, and a confirm. Confirming sends `block`; the server ends the chat
 * (its closing `conversation` frame comes back as after `close`) and refuses the patron's new chats
 * and messages, and those from the same address, until then. An `error` whose ref is "block" is
 * shown in the form, which stays open. Escape or Cancel closes it and gives the focus back. It hooks
 * into the dashboard as a plugin: the `frame` hook (before main.js) and the `render` hook of chat.js. */
(function (app) {
  "use strict";
  if (!app || !document.getElementById("block-form")) return;
  var D = window.RuangTanyaDOM;
  var S = D.strings("block-strings");
  function t(key, params) { return D.format(Object.prototype.hasOwnProperty.call(S, key) ? S[key] : key, params); }
  function $(id) { return document.getElementById(id); }
  var el = {
    button: $("block-button"), form: $("block-form"), minutes: $("block-minutes"), reason: $("block-reason"),
    yes: $("block-yes"), no: $("block-no"), status: $("block-status")
  };

  var openFor = null;   // the conversation id the form is open for
  var pending = null;   // {id, name, until} of a block sent and not yet answered

  function active() { return app.state.convs.get(app.state.activeId); }

  function open() {
    var conv = active();
    if (!conv || conv.status !== "active") return;
    openFor = conv.id;
    el.status.textContent = "";
    render(conv);
    el.minutes.focus();
  }
  function cancel() {
    openFor = null;
    render(active());
    el.button.focus();
  }
  function confirm() {
    var conv = active();
    if (!conv || conv.status !== "active" || conv.id !== openFor) return;
    if (!app.ready()) { el.status.textContent = t("not_connected"); return; }
    var minutes = Number(el.minutes.value);
    var frame = { type: "block", conversation: conv.id, minutes: minutes };
    if (el.reason.value.trim()) frame.reason = el.reason.value.trim();
    pending = { id: conv.id, name: app.patronName(conv), until: Date.now() + minutes * 60000 };
    el.status.textContent = t("blocking");
    el.yes.disabled = true;
    app.send(frame);
  }

  function untilText(ms) {
    var iso = new Date(ms).toISOString();
    return ms - Date.now() > 12 * 3600000 && app.dateTime ? app.dateTime(iso) : app.clock(ms);
  }

  function render(conv) {
    var usable = !!conv && conv.status === "active";
    el.button.hidden = !usable;
    el.button.disabled = !app.ready();
    var shown = usable && openFor === conv.id;
    el.form.hidden = !shown;
    el.button.setAttribute("aria-expanded", shown ? "true" : "false");
    el.yes.disabled = !!pending && pending.id === (conv && conv.id);
    if (!shown && (!conv || openFor !== conv.id)) {
      el.reason.value = "";
      el.minutes.value = "60";
    }
  }

  el.button.addEventListener("click", function () { if (openFor === null) open(); else cancel(); });
  el.no.addEventListener("click", cancel);
  el.yes.addEventListener("click", confirm);
  el.form.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); cancel(); }
    if (event.key === "Enter" && event.target === el.reason) { event.preventDefault(); confirm(); }
  });

  (window.RuangTanyaDashboardPlugins = window.RuangTanyaDashboardPlugins || []).push(function () {
    return {
      frame: function (frame) {
        if (frame.type === "error" && frame.ref === "block") {
          pending = null;
          el.yes.disabled = false;
          el.status.textContent = frame.message || "";
          return true;
        }
        if (frame.type === "conversation" && pending && frame.conversation && frame.conversation.id === pending.id &&
            frame.conversation.status === "closed") {
          app.showAlert(app.el.chatAlerts, t("done", { name: pending.name, time: untilText(pending.until) }), "info");
          pending = null;
          openFor = null;
        }
        return false;   // chat.js shows the chat as closed
      },
      render: render
    };
  });
})(window.RuangTanyaDashboard);
