/* Ruang Tanya dashboard: canned replies (reference/canned.py, over /staff/canned/, see
 * reference/canned_views.py). Loaded after chat.js; needs nothing from it but app.el and app.chat.active.
 *
 * The picker. Typing "/" at the start of the reply box of a chat one holds opens a list of the replies
 * one may use, each with its text as this chat's patron would get it; what follows the "/" filters it,
 * ↑/↓ move, Enter or a click inserts the reply (the server fills in the variables and counts the use),
 * Esc closes it and leaves what was typed. The reply box stays a textbox (a textarea may take no other
 * role): it points at the listbox with aria-controls and at the highlighted option with
 * aria-activedescendant. app.openCannedPicker() (for a keyboard shortcut) does the same on an empty box,
 * and on a draft opens the list with a search field of its own (a combobox) and inserts at the caret.
 * The picker's keys are caught on the reply form in the capture phase, before chat.js's Enter-to-send.
 *
 * The dialog. "Canned replies" lists the replies with who may use them and how often they were used;
 * one creates, edits and deletes one's own there, and shared ones with the permission. The server's
 * refusals are shown next to the field they name. Every text people wrote is inserted as text. */
(function (app) {
  "use strict";
  var root = document.getElementById("canned");
  if (!app || !root) return;
  var D = window.RuangTanyaDOM, h = D.h, el = app.el;
  var S = D.strings("canned-strings");
  function t(key, params) { return D.format(Object.prototype.hasOwnProperty.call(S, key) ? S[key] : key, params); }
  function $(id) { return document.getElementById(id); }

  var URL = root.dataset.url;

  /* JSON to and from /staff/canned/; rejects with {message, field} when the server refuses. */
  function request(method, path, body) {
    var options = { method: method, credentials: "same-origin",
                    headers: { "Accept": "application/json", "X-CSRFToken": root.dataset.csrf } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(URL + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) return data;
        throw { message: data.message || t("failed"), field: data.field || null, code: data.error || "" };
      });
    }, function () { throw { message: t("failed"), field: null }; });
  }

  function countText(n) { return n === 1 ? t("count_one") : t("count", { count: n }); }

  // ---- the picker ----------------------------------------------------------------------------
  var picker = $("canned-picker"), listbox = $("canned-listbox"), status = $("canned-picker-status");
  var search = $("canned-picker-search");
  el.composer.insertBefore(picker, el.composer.firstChild);

  var hint = h("span", "hint canned-hint", t("hint"));
  hint.id = "canned-hint";
  var counter = el.composer.querySelector(".counter");
  counter.parentNode.insertBefore(hint, counter);
  el.input.setAttribute("aria-describedby", (el.input.getAttribute("aria-describedby") || "") + " canned-hint");

  var pick = {
    open: false, mode: "slash",  // "slash": the query is the reply box after "/"; "search": the picker's own field
    conv: null, replies: null, shown: [], active: -1, loaded: 0, caret: null,
    dismissed: false             // Esc on "/…": stay closed until the box no longer starts with "/"
  };

  function heldConv() {
    var conv = app.chat.active();
    return conv && conv.status === "active" ? conv : null;
  }

  function query() {
    return pick.mode === "slash" ? el.input.value.slice(1) : search.value;
  }

  function openPicker(mode) {
    var conv = heldConv();
    if (!conv) return false;
    pick.open = true;
    pick.mode = mode;
    pick.conv = conv.id;
    pick.replies = null;
    pick.active = -1;
    picker.hidden = false;
    search.hidden = mode !== "search";
    search.value = "";
    var target = mode === "search" ? search : el.input;
    target.setAttribute("aria-controls", "canned-listbox");
    target.setAttribute("aria-autocomplete", "list");
    status.textContent = t("loading");
    listbox.textContent = "";
    var loading = ++pick.loaded;
    request("GET", "?conversation=" + encodeURIComponent(conv.id)).then(function (data) {
      if (!pick.open || loading !== pick.loaded) return;
      pick.replies = data.replies || [];
      filter();
    }, function (failure) {
      if (pick.open && loading === pick.loaded) status.textContent = failure.message;
    });
    if (mode === "search") search.focus();
    return true;
  }

  function closePicker(focusReplyBox) {
    if (!pick.open) return;
    pick.open = false;
    pick.loaded += 1;   // an answer still on its way is not shown
    picker.hidden = true;
    listbox.textContent = "";
    status.textContent = "";
    [el.input, search].forEach(function (node) {
      node.removeAttribute("aria-activedescendant");
      node.removeAttribute("aria-controls");
      node.removeAttribute("aria-autocomplete");
    });
    if (focusReplyBox && document.activeElement !== el.input) el.input.focus();
  }

  /* The replies that have every word of the query in their title or text; title matches first. */
  function filter() {
    if (!pick.replies) return;
    var words = query().toLowerCase().split(/\s+/).filter(Boolean);
    var inTitle = [], inText = [];
    pick.replies.forEach(function (reply) {
      var title = reply.title.toLowerCase(), all = title + " " + (reply.preview || "").toLowerCase();
      if (!words.every(function (w) { return all.indexOf(w) !== -1; })) return;
      (words.every(function (w) { return title.indexOf(w) !== -1; }) ? inTitle : inText).push(reply);
    });
    pick.shown = inTitle.concat(inText);
    pick.active = pick.shown.length ? 0 : -1;
    listbox.textContent = "";
    pick.shown.forEach(function (reply, index) {
      var option = h("li", "canned-option");
      option.id = "canned-option-" + reply.id;
      option.setAttribute("role", "option");
      option.appendChild(h("span", "canned-option-title", reply.title));
      option.appendChild(h("span", "canned-option-text", app.truncate(reply.preview, 160)));
      // Keep the focus in the reply box: a click chooses without blurring it.
      option.addEventListener("mousedown", function (event) { event.preventDefault(); });
      option.addEventListener("click", function () { choose(index); });
      listbox.appendChild(option);
    });
    status.textContent = pick.shown.length ? countText(pick.shown.length)
      : words.length ? t("no_match", { query: query() }) : t("none");
    highlight();
  }

  function highlight() {
    var target = pick.mode === "search" ? search : el.input;
    Array.prototype.forEach.call(listbox.children, function (option, index) {
      option.setAttribute("aria-selected", index === pick.active ? "true" : "false");
    });
    var current = listbox.children[pick.active];
    if (current) {
      target.setAttribute("aria-activedescendant", current.id);
      keepInView(current);
    } else {
      target.removeAttribute("aria-activedescendant");
    }
  }

  /* Scroll the list, and only the list (scrollIntoView would move the whole dashboard too). */
  function keepInView(option) {
    var top = option.offsetTop, bottom = top + option.offsetHeight;
    if (top < listbox.scrollTop) listbox.scrollTop = top;
    else if (bottom > listbox.scrollTop + listbox.clientHeight) listbox.scrollTop = bottom - listbox.clientHeight;
  }

  function move(step) {
    if (!pick.shown.length) return;
    pick.active = (pick.active + step + pick.shown.length) % pick.shown.length;
    highlight();
  }

  /* The server renders the reply for this chat and counts it; the text goes into the reply box. */
  function choose(index) {
    var reply = pick.shown[index];
    if (!reply) return;
    var convId = pick.conv, mode = pick.mode, caret = pick.caret;
    closePicker(true);
    request("POST", reply.id + "/use", { conversation: convId }).then(function (data) {
      var conv = heldConv();
      if (!conv || conv.id !== convId) return;   // the librarian moved on meanwhile
      var text = String(data.text || "");
      if (mode === "slash") {
        el.input.value = text;
      } else {
        var value = el.input.value, at = caret === null ? value.length : caret;
        el.input.value = value.slice(0, at) + text + value.slice(at);
      }
      pick.dismissed = true;   // the text may start with "/" itself
      el.input.dispatchEvent(new Event("input", { bubbles: true }));   // chat.js: draft, counter, typing
      el.input.focus();
      var end = mode === "slash" ? text.length : (caret === null ? el.input.value.length : caret + text.length);
      el.input.setSelectionRange(end, end);
      app.announce(t("inserted", { title: reply.title }));
    }, function (failure) {
      app.showAlert(el.chatAlerts, failure.message);
    });
  }

  function onPickerKey(event) {
    if (!pick.open || event.isComposing) return;
    var conv = heldConv();
    if (!conv || conv.id !== pick.conv) { closePicker(false); return; }   // another chat is open now
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && !event.shiftKey) {
      // Never Enter-to-send "/…" while choosing; a reply is inserted, not sent.
      event.preventDefault();
      event.stopPropagation();
      choose(pick.active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      if (pick.mode === "slash") pick.dismissed = true;
      closePicker(true);
    } else if (event.key === "Tab") {
      closePicker(false);
    }
  }

  el.composer.addEventListener("keydown", function (event) {
    if (event.target === el.input || event.target === search) onPickerKey(event);
  }, true);

  el.input.addEventListener("input", function () {
    var slash = /^\/[^\n]*$/.test(el.input.value);
    if (!el.input.value.startsWith("/")) pick.dismissed = false;
    if (pick.open && pick.mode === "slash") {
      if (slash) filter();
      else closePicker(false);
    } else if (slash && !pick.dismissed && !pick.open) {
      openPicker("slash");
    }
  });
  search.addEventListener("input", filter);

  // Leaving the reply box (another chat, the queue…) closes the list; moving into it does not.
  function onFocusOut(event) {
    if (pick.open && !picker.contains(event.relatedTarget) && event.relatedTarget !== el.input) closePicker(false);
  }
  el.input.addEventListener("focusout", onFocusOut);
  search.addEventListener("focusout", onFocusOut);

  /* For a keyboard shortcut: on an empty reply box as if "/" had been typed; on a draft, the list with
     its own search field, inserting at the caret. False when no chat is held open. */
  app.openCannedPicker = function () {
    if (!heldConv() || el.composer.hidden) return false;
    if (pick.open) { (pick.mode === "search" ? search : el.input).focus(); return true; }
    if (!el.input.value) {
      el.input.focus();
      el.input.value = "/";
      pick.dismissed = false;
      el.input.dispatchEvent(new Event("input", { bubbles: true }));
      return pick.open;
    }
    pick.caret = el.input.selectionStart;
    return openPicker("search");
  };

  // ---- the management dialog -----------------------------------------------------------------
  var dialog = $("canned-dialog"), opener = $("canned-manage");
  var list = $("canned-list"), listStatus = $("canned-list-status"), listSearch = $("canned-search");
  var form = $("canned-form"), formHeading = $("canned-form-heading"), formError = $("canned-form-error");
  var fields = { title: $("canned-title"), scope: $("canned-scope"), queue: $("canned-queue"),
                 text_id: $("canned-text-id"), text_en: $("canned-text-en") };
  var queueField = $("canned-queue-field");
  var manage = { replies: [], editing: null, confirming: null, loaded: 0 };

  function scopeText(reply) {
    if (reply.scope === "queue") return t("scope_queue", { queue: reply.queue ? reply.queue.name : "" });
    return t("scope_" + reply.scope);
  }
  function usedText(n) { return n === 0 ? t("used_never") : n === 1 ? t("used_once") : t("used", { count: n }); }

  function load() {
    var loading = ++manage.loaded;
    listStatus.textContent = t("loading");
    var q = listSearch.value.trim();
    return request("GET", q ? "?q=" + encodeURIComponent(q) : "").then(function (data) {
      if (loading !== manage.loaded) return;
      manage.replies = data.replies || [];
      fillQueues(data.queues || []);
      renderList();
    }, function (failure) { listStatus.textContent = failure.message; });
  }

  function fillQueues(queues) {
    var chosen = fields.queue.value;
    fields.queue.textContent = "";
    queues.forEach(function (queue) {
      var option = h("option", "", queue.name);
      option.value = String(queue.id);
      fields.queue.appendChild(option);
    });
    if (chosen) fields.queue.value = chosen;
  }

  function renderList() {
    list.textContent = "";
    manage.replies.forEach(function (reply) { list.appendChild(buildItem(reply)); });
    listStatus.textContent = manage.replies.length ? countText(manage.replies.length)
      : listSearch.value.trim() ? t("no_match", { query: listSearch.value.trim() }) : t("none");
  }

  function button(className, text, label, onClick) {
    var node = h("button", className, text);
    node.type = "button";
    if (label) node.setAttribute("aria-label", label);
    node.addEventListener("click", onClick);
    return node;
  }

  function buildItem(reply) {
    var li = h("li", "canned-item");
    li.dataset.id = String(reply.id);
    var head = h("div", "canned-item-head");
    head.appendChild(h("span", "canned-item-title", reply.title));
    head.appendChild(h("span", "tag", scopeText(reply)));
    head.appendChild(h("span", "canned-item-used", usedText(reply.usage_count)));
    li.appendChild(head);
    li.appendChild(h("p", "canned-item-text", app.truncate(reply.text_id, 200)));
    li.appendChild(h("p", "canned-item-text", app.truncate(reply.text_en, 200)));
    if (manage.confirming === reply.id) {
      var confirm = h("div", "confirm canned-confirm");
      confirm.setAttribute("role", "group");
      var question = h("p", "", t("delete_confirm", { title: reply.title }));
      question.id = "canned-confirm-" + reply.id;
      confirm.setAttribute("aria-labelledby", question.id);
      confirm.appendChild(question);
      var actions = h("div", "confirm-actions");
      actions.appendChild(button("button small danger canned-delete-yes", t("delete_yes"), null, function () { remove(reply); }));
      actions.appendChild(button("button small canned-delete-no", t("cancel"), null, function () {
        manage.confirming = null;
        renderList();
        focusItemButton(reply.id, ".canned-delete");
      }));
      confirm.appendChild(actions);
      li.appendChild(confirm);
    } else if (reply.editable) {
      var buttons = h("div", "canned-item-actions");
      buttons.appendChild(button("button small canned-edit", t("edit"), t("edit_label", { title: reply.title }),
        function () { edit(reply); }));
      buttons.appendChild(button("button small danger-outline canned-delete", t("delete"),
        t("delete_label", { title: reply.title }), function () {
          manage.confirming = reply.id;
          renderList();
          focusItemButton(reply.id, ".canned-delete-no");
        }));
      li.appendChild(buttons);
    } else {
      li.appendChild(h("p", "canned-item-note", t("read_only")));
    }
    return li;
  }

  function focusItemButton(id, selector) {
    var node = list.querySelector('[data-id="' + id + '"] ' + selector);
    if (node) node.focus();
  }

  function clearErrors() {
    formError.textContent = "";
    Object.keys(fields).forEach(function (name) {
      fields[name].removeAttribute("aria-invalid");
      $("canned-error-" + name).textContent = "";
    });
  }

  function showError(failure) {
    var field = failure.field && fields[failure.field];
    if (field) {
      $("canned-error-" + failure.field).textContent = failure.message;
      field.setAttribute("aria-invalid", "true");
      field.focus();
    } else {
      formError.textContent = failure.message;
    }
  }

  function syncScope() { queueField.hidden = fields.scope.value !== "queue"; }

  function edit(reply) {
    manage.editing = reply;
    manage.confirming = null;
    clearErrors();
    formHeading.textContent = reply ? t("editing") : t("new");
    fields.title.value = reply ? reply.title : "";
    fields.scope.value = reply ? reply.scope : "personal";
    if (reply && reply.queue) fields.queue.value = String(reply.queue.id);
    fields.text_id.value = reply ? reply.text_id : "";
    fields.text_en.value = reply ? reply.text_en : "";
    syncScope();
    form.hidden = false;
    fields.title.focus();
  }

  function closeForm(focusId) {
    form.hidden = true;
    manage.editing = null;
    clearErrors();
    var node = focusId ? list.querySelector('[data-id="' + focusId + '"] .canned-edit') : null;
    (node || $("canned-new")).focus();
  }

  function save(event) {
    event.preventDefault();
    clearErrors();
    var editing = manage.editing;
    var body = { title: fields.title.value, scope: fields.scope.value, text_id: fields.text_id.value,
                 text_en: fields.text_en.value, queue: fields.scope.value === "queue" ? fields.queue.value : null };
    $("canned-save").disabled = true;
    request(editing ? "PUT" : "POST", editing ? editing.id + "/" : "", body).then(function (data) {
      listStatus.textContent = "";
      return load().then(function () {
        closeForm(data.reply.id);
        app.announce(t("saved", { title: data.reply.title }));
      });
    }, showError).then(function () { $("canned-save").disabled = false; });
  }

  function remove(reply) {
    request("DELETE", reply.id + "/").then(function () {
      manage.confirming = null;
      if (manage.editing && manage.editing.id === reply.id) closeForm(null);
      return load().then(function () {
        $("canned-new").focus();
        app.announce(t("deleted", { title: reply.title }));
      });
    }, function (failure) { listStatus.textContent = failure.message; });
  }

  function openDialog() {
    closePicker(false);
    manage.confirming = null;
    form.hidden = true;
    listSearch.value = "";
    dialog.showModal();
    listSearch.focus();
    load();
  }

  opener.addEventListener("click", openDialog);
  $("canned-dialog-close").addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", function () { opener.focus(); });
  $("canned-new").addEventListener("click", function () { edit(null); });
  $("canned-cancel").addEventListener("click", function () {
    closeForm(manage.editing ? manage.editing.id : null);
  });
  fields.scope.addEventListener("change", syncScope);
  form.addEventListener("submit", save);
  var searchTimer = null;
  listSearch.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(load, 200);
  });

  app.canned = { openPicker: app.openCannedPicker, closePicker: closePicker, openDialog: openDialog };
})(window.RuangTanyaDashboard);
