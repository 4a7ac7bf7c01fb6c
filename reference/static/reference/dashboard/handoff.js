/* Ruang Tanya dashboard: chats changing hands — transfers to a colleague or a queue,
 * offers from colleagues and from automatic routing, and chats the server releases from us. */
(function (app) {
  "use strict";
  if (!app) return;
  var state = app.state, el = app.el, t = app.t, h = app.h;
  var answering = null;   // the transfer we answered last (its error names no id)

  function welcome(frame) {
    state.transferQueues = Array.isArray(frame.transfer_queues) ? frame.transfer_queues : [];
    state.offers.clear();
    (frame.offers || []).forEach(function (offer) { state.offers.set(offer.id, offer); });
    state.assignments.clear();
    (frame.assignments || []).forEach(function (offer) { state.assignments.set(offer.id, offer); });
    renderOffers();
  }

  /* `conversation.released`: the chat is no longer ours (transferred to a colleague or a queue, or
     put back in the queue while we were away). It leaves "My chats" at once, reply box, draft and
     unsent messages included, and the capacity count drops. */
  function onReleased(frame) {
    var conv = state.convs.get(frame.conversation);
    if (!conv) return;
    var text = frame.reason === "transferred" ? t("transferred", { name: app.patronName(conv), to: frame.to || "" })
      : t("released", { name: app.patronName(conv) });
    app.showAlert(el.globalAlerts, text);
    app.announce(text);
    app.chat.remove(conv.id, true);
  }

  function onTransfer(tr) {
    if (!tr || typeof tr.id !== "number") return;
    if (tr.to_id === state.me.id) {
      if (tr.status === "offered") {
        if (!state.offers.has(tr.id)) {
          var offered = t("offer", { from: tr.from, name: tr.patron || t("anonymous"), question: app.truncate(tr.question, 140) });
          app.announce(offered);
          app.emit("offer", { conversation: tr.conversation, text: offered });
        }
        state.offers.set(tr.id, tr);
      } else {
        state.offers.delete(tr.id);
      }
      renderOffers();
    }
    if (tr.from_id === state.me.id) {
      var conv = state.convs.get(tr.conversation);
      if (!conv) return;
      conv.transferOut = tr.status === "offered" ? tr : null;
      if (tr.status === "declined" || tr.status === "expired") {
        var text = t("transfer_" + tr.status, { name: tr.to || "" });
        app.showAlert(conv.id === state.activeId ? el.chatAlerts : el.globalAlerts, text);
        app.announce(text);
      }
      app.chat.render();
    }
  }

  function onAssignment(offer) {
    if (!offer || typeof offer.id !== "number") return;
    if (offer.status === "offered") {
      if (!state.assignments.has(offer.id)) {
        var c = offer.conversation || {};
        var text = t("assignment", { name: app.patronName(c), question: app.truncate(c.question, 140) });
        app.announce(text);
        app.emit("offer", { conversation: c.id, text: text });
      }
      state.assignments.set(offer.id, offer);
    } else {
      state.assignments.delete(offer.id);
    }
    renderOffers();
  }

  /* Errors answering transfer, transfer.accept/decline and assignment.decline; false for others. */
  function onError(frame) {
    var ref = frame.ref, text = frame.message || t("unknown_error");
    if (ref === "transfer") { app.showAlert(el.chatAlerts, text); return true; }
    if (ref === "assignment.decline") { app.showAlert(el.globalAlerts, text); return true; }
    if (ref === "transfer.accept" || ref === "transfer.decline") {
      state.pendingClaims.clear();
      if (frame.code === "offer_expired" || frame.code === "not_found") state.offers.delete(answering);   // it is gone
      renderOffers();
      app.showAlert(el.globalAlerts, text);
      return true;
    }
    return false;
  }

  function secondsLeft(tr) {
    return Math.max(0, Math.round((app.parseTime(tr.expires_at) - app.now()) / 1000));
  }

  function offerItem(text, note, onYes, onNo, offer) {
    var li = h("li", "offer");
    li.appendChild(h("p", "offer-text", text));
    if (note) li.appendChild(h("p", "offer-note", t("offer_note", { note: note })));
    var actions = h("p", "offer-actions");
    var yes = h("button", "button primary", t("accept"));
    yes.type = "button";
    yes.addEventListener("click", onYes);
    var no = h("button", "button", t("decline"));
    no.type = "button";
    no.addEventListener("click", onNo);
    actions.appendChild(yes);
    actions.appendChild(no);
    actions.appendChild(h("span", "offer-time", t("seconds_left", { seconds: secondsLeft(offer) })));
    li.appendChild(actions);
    return li;
  }

  function renderOffers() {
    el.offers.textContent = "";
    state.assignments.forEach(function (offer) {
      if (secondsLeft(offer) <= 0) { state.assignments.delete(offer.id); return; }
      var c = offer.conversation;
      el.offers.appendChild(offerItem(t("assignment", { name: app.patronName(c), question: app.truncate(c.question, 140) }), null,
        function () { app.queue.claim(c.id); },
        function () { app.send({ type: "assignment.decline", offer: offer.id }); }, offer));
    });
    state.offers.forEach(function (tr) {
      if (secondsLeft(tr) <= 0) { state.offers.delete(tr.id); return; }
      el.offers.appendChild(offerItem(t("offer", { from: tr.from, name: tr.patron || t("anonymous"), question: app.truncate(tr.question, 140) }), tr.note,
        function () {
          answering = tr.id;
          state.pendingClaims.add(tr.conversation);   // open it when it arrives
          app.send({ type: "transfer.accept", transfer: tr.id });
        },
        function () { answering = tr.id; app.send({ type: "transfer.decline", transfer: tr.id }); }, tr));
    });
  }

  /* Every second: the seconds left to answer each offer. */
  function tick() {
    var all = Array.from(state.assignments.values()).concat(Array.from(state.offers.values()));
    el.offers.querySelectorAll(".offer-time").forEach(function (span, index) {
      if (all[index]) span.textContent = t("seconds_left", { seconds: secondsLeft(all[index]) });
    });
    if (all.some(function (offer) { return secondsLeft(offer) <= 0; })) renderOffers();
  }

  function openTransfer() {
    var conv = app.chat.active();
    if (!conv) return;
    el.transferLibrarians.textContent = "";
    state.team.forEach(function (p) {
      if (p.id === state.me.id || p.presence !== "available" || p.held >= p.capacity) return;
      var option = h("option", "", p.name + " · " + t("load", { held: p.held, capacity: p.capacity }));
      option.value = "l:" + p.id;
      el.transferLibrarians.appendChild(option);
    });
    if (!el.transferLibrarians.children.length) {
      var none = h("option", "", t("nobody_available"));
      none.disabled = true;
      el.transferLibrarians.appendChild(none);
    }
    el.transferQueues.textContent = "";
    // A chat answered for another library goes back to that library's queues, not to ours (cover.js).
    var queues = conv.cover ? (conv.cover.return_queues || []) : state.transferQueues;
    queues.forEach(function (q) {
      if (conv.queue && q.id === conv.queue.id) return;
      var option = h("option", "", q.name);
      option.value = "q:" + q.id;
      el.transferQueues.appendChild(option);
    });
    var first = el.transferTarget.querySelector("option:not([disabled])");
    if (first) el.transferTarget.value = first.value;
    el.transferForm.hidden = false;
    el.transferButton.setAttribute("aria-expanded", "true");
    el.transferTarget.focus();
  }
  function closeTransfer(refocus) {
    el.transferForm.hidden = true;
    el.transferButton.setAttribute("aria-expanded", "false");
    if (refocus) el.transferButton.focus();
  }
  function submitTransfer() {
    var conv = app.chat.active();
    var target = el.transferTarget.value || "";
    if (!conv || !target) return;
    var frame = { type: "transfer", conversation: conv.id, note: el.transferNote.value.trim() };
    frame[target.charAt(0) === "l" ? "to_librarian" : "to_queue"] = Number(target.slice(2));
    if (app.send(frame)) {
      el.transferNote.value = "";
      closeTransfer(false);
    }
  }

  /* The open chat's transfer notes, and the transfer of it waiting for a colleague's answer. */
  function renderNotes(conv) {
    var notes = (conv.transfers || []).filter(function (tr) { return tr.note; });
    el.chatNotes.hidden = !notes.length;
    el.chatNotes.textContent = "";
    notes.forEach(function (tr) {
      el.chatNotes.appendChild(h("li", "chat-note", t("note_line", { from: tr.from, to: tr.to || tr.to_queue || "", note: tr.note })));
    });
    var out = conv.transferOut;
    el.transferPending.hidden = !out;
    el.transferPending.textContent = out ? t("transfer_waiting", { name: out.to || "" }) : "";
    el.transferButton.hidden = conv.status !== "active" || !!out;
  }

  el.transferButton.addEventListener("click", function () { if (el.transferForm.hidden) openTransfer(); else closeTransfer(true); });
  el.transferCancel.addEventListener("click", function () { closeTransfer(true); });
  el.transferForm.addEventListener("submit", function (event) { event.preventDefault(); submitTransfer(); });
  el.transferForm.addEventListener("keydown", function (event) { if (event.key === "Escape") closeTransfer(true); });

  app.handoff = { welcome: welcome, onReleased: onReleased, onTransfer: onTransfer, onAssignment: onAssignment,
                  onError: onError, renderNotes: renderNotes, closeTransfer: closeTransfer, tick: tick };
})(window.RuangTanyaDashboard);
