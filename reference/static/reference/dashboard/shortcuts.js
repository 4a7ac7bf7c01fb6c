/* Ruang Tanya dashboard: keyboard shortcuts and their help panel.
 *
 * The shortcuts are the rows of the help panel (_dashboard_shortcuts.html) with a data-action;
 * their data-keys (aria-keyshortcuts syntax) are the only place the keys are written. Alt+↑/↓ move
 * between "My chats" (as in Slack); the actions are Alt+Shift+letter: browsers bind none of them
 * (Chrome's Alt+Shift+I/T are not used), screen readers use Insert/CapsLock (NVDA, JAWS, Narrator)
 * or Control+Option (VoiceOver) and pass Alt+Shift through, even in browse mode, and Firefox
 * uses Alt+Shift only for a page's accesskeys, of which the dashboard has none. They work while
 * typing in the reply box; `?` opens the panel only outside text fields. */
(function (app) {
  "use strict";
  if (!app) return;
  var state = app.state, el = app.el, t = app.t;
  var dialog = document.getElementById("shortcuts-dialog");
  var openButton = document.getElementById("shortcuts-button");
  if (!dialog || !openButton) return;

  var MAC = /Mac|iPhone|iPad/.test(navigator.platform || "");
  var NAMES = { ArrowUp: "↑", ArrowDown: "↓", Alt: MAC ? "Option" : "Alt", Escape: "Esc" };

  /* "Alt+Shift+C" -> {alt, shift, key} */
  function parse(keys) {
    var parts = keys === "?" ? ["?"] : keys.split("+");
    return { alt: parts.indexOf("Alt") !== -1, shift: parts.indexOf("Shift") !== -1, key: parts[parts.length - 1] };
  }
  function shown(keys) { return (keys === "?" ? ["?"] : keys.split("+")).map(function (k) { return NAMES[k] || k; }); }

  var bindings = [];   // {action, keys, combo}
  dialog.querySelectorAll("tr[data-keys]").forEach(function (row) {
    var keys = row.dataset.keys, cell = row.querySelector(".keys");
    shown(keys).forEach(function (name, index) {
      if (index) cell.appendChild(document.createTextNode(" + "));
      cell.appendChild(app.h("kbd", "", name));
    });
    if (row.dataset.action) bindings.push({ action: row.dataset.action, keys: keys, combo: parse(keys) });
  });
  function keysOf(action) {
    var found = bindings.filter(function (b) { return b.action === action; })[0];
    return found ? found.keys : "";
  }
  function keysText(action) { return shown(keysOf(action)).join("+"); }

  function matches(combo, event) {
    if (event.ctrlKey || event.metaKey) return false;   // AltGr is Ctrl+Alt on Windows: never ours
    if (combo.key === "?") return event.key === "?" && !event.altKey;
    if (event.altKey !== combo.alt || event.shiftKey !== combo.shift) return false;
    // Option+Shift+C types "Ç" on a Mac: the physical key decides for letters.
    if (combo.key.length === 1) return event.code === "Key" + combo.key || event.key.toUpperCase() === combo.key;
    return event.key === combo.key;
  }

  var NOT_TEXT = /^(checkbox|radio|button|submit|reset|file|range|color|image)$/;
  function typingIn(target) {
    if (!target) return false;
    if (target.tagName === "INPUT") return !NOT_TEXT.test(target.type);
    return target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT";
  }

  // ---- the actions -----------------------------------------------------------------------
  function step(by) {
    if (!state.order.length) { app.announce(t("no_open_chat")); return; }
    var index = state.order.indexOf(state.activeId);
    var next = index === -1 ? 0 : (index + by + state.order.length) % state.order.length;
    app.chat.select(state.order[next], true);
  }

  /* The library's own oldest waiting chat; another library's (a cover agreement's) only when none of ours waits. */
  function claimOldest() {
    var oldest = null;
    state.waiting.forEach(function (c) {
      if (state.pendingClaims.has(c.id)) return;
      var age = app.parseTime(c.created_at), best = oldest && app.parseTime(oldest.created_at);
      var first = oldest && !!c.cover !== !!oldest.cover ? !c.cover : age < best || (age === best && c.id < oldest.id);
      if (!oldest || first) oldest = c;
    });
    if (oldest) app.queue.claim(oldest.id);   // opens the chat once it is ours, as a click does
    else app.announce(t("nobody_waiting"));
  }

  function openCanned() {
    if (typeof app.openCannedPicker === "function") { app.openCannedPicker(); return; }
    var conv = app.chat.active();
    if (!conv || conv.status !== "active" || el.composer.hidden) { app.announce(t("no_open_chat")); return; }
    // No picker on this page: start a "/" command in the reply box, as typing it would.
    var input = el.input, at = input.selectionStart || 0;
    input.focus();
    input.setRangeText("/", at, input.selectionEnd || at, "end");
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /* Through the page's own close button: the same confirmation, focus on its Cancel. */
  function closeOpenChat() {
    if (el.chat.hidden || el.closeButton.hidden || el.closeButton.disabled) { app.announce(t("no_open_chat")); return; }
    el.closeButton.click();
  }

  var opener = null;
  function openHelp() {
    if (dialog.open) return;
    opener = document.activeElement;
    dialog.showModal();
  }
  dialog.addEventListener("close", function () {
    if (opener && document.contains(opener) && opener.focus) opener.focus();
    opener = null;
  });
  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) dialog.close();   // the backdrop
  });
  openButton.addEventListener("click", openHelp);

  var ACTIONS = { next: function () { step(1); }, previous: function () { step(-1); }, claim: claimOldest,
                  canned: openCanned, close: closeOpenChat, help: openHelp };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing || dialog.open) return;
    var binding = bindings.filter(function (b) { return matches(b.combo, event); })[0];
    if (!binding) return;
    if (binding.action === "help" && typingIn(event.target)) return;   // a question mark being typed
    var arrow = binding.action === "next" || binding.action === "previous";
    if (arrow && event.target && event.target.tagName === "SELECT") return;   // Alt+↓ opens its list
    event.preventDefault();
    ACTIONS[binding.action]();
  });

  // ---- the keys on the buttons they stand for ----------------------------------------------
  function label(button, action, name) {
    button.setAttribute("aria-keyshortcuts", keysOf(action));
    button.title = t("with_keys", { action: name, keys: keysText(action) });
  }
  // A control that does what a shortcut does says so: data-shortcut="ACTION" (the canned replies
  // button can opt in the same way), the close button, and the first Claim below.
  document.querySelectorAll("[data-shortcut]").forEach(function (control) {
    label(control, control.dataset.shortcut, control.textContent.trim());
  });
  label(el.closeButton, "close", el.closeButton.textContent.trim());
  /* The first Claim in the waiting list is the one Alt+Shift+C takes (the list is oldest first). */
  function labelFirstClaim() {
    var first = el.queueList.querySelector(".queue-item button");
    el.queueList.querySelectorAll("button[aria-keyshortcuts]").forEach(function (button) {
      if (button === first) return;
      button.removeAttribute("aria-keyshortcuts");
      button.removeAttribute("title");
    });
    if (first) label(first, "claim", t("claim"));
  }
  new MutationObserver(labelFirstClaim).observe(el.queueList, { childList: true });

})(window.RuangTanyaDashboard);
