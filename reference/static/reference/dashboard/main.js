/* Ruang Tanya dashboard: the connection. The shared protocol client (protocol-client.js)
 * keeps the socket, the outbox, resume, gap repair and liveness; here its frames go to the panel
 * modules, the welcome is spread over them, errors find their place, and the connection state is
 * shown. Then everything starts. */
(function (app) {
  "use strict";
  if (!app) return;
  var P = window.RuangTanyaProtocol;
  var state = app.state, el = app.el, t = app.t;

  function onFrame(frame, extra) {
    switch (frame.type) {
      case "welcome": onWelcome(frame); break;
      case "queue.added": app.queue.onAdded(frame.conversation); break;
      case "queue.removed": app.queue.onRemoved(frame.conversation); break;
      case "cover.waiting": app.queue.onCoverWaiting(frame.conversations); break;
      case "conversation": app.chat.onConversation(frame.conversation); break;
      case "message": app.chat.onMessage(frame.message, true); break;
      case "typing": app.chat.onTyping(frame); break;
      case "ack": app.chat.onAck(frame); break;
      case "pong": if (extra && extra.kind === "close") app.chat.onCloseAnswered(extra); break;
      case "messages": app.chat.onMessages(frame); break;
      case "read": app.chat.onRead(frame); break;
      case "presence": app.team.onPresence(frame.librarian); break;
      case "conversation.released": app.handoff.onReleased(frame); break;
      case "transfer": app.handoff.onTransfer(frame.transfer); break;
      case "assignment": app.handoff.onAssignment(frame.offer); break;
      case "duty.requeued": app.duty.onRequeued(frame); break;
      case "error": onError(frame, extra); break;
      default: break;   // heartbeat: gaps are the protocol client's; unknown types are ignored
    }
  }

  function onWelcome(frame) {
    var serverTime = app.parseTime(frame.server_time);
    if (!isNaN(serverTime)) state.offset = serverTime - Date.now();
    if (frame.librarian) {
      state.me.id = frame.librarian.id;
      state.me.name = frame.librarian.name || state.me.name;
      state.me.max_chats = frame.librarian.max_chats || state.me.max_chats;
    }
    state.queues = Array.isArray(frame.queues) ? frame.queues : [];
    state.stray.clear();
    app.clearAlert(el.globalAlerts);
    app.team.welcome(frame);
    app.handoff.welcome(frame);
    app.queue.welcome(frame);
    app.chat.welcome(frame);
    app.duty.welcome(frame);
    app.renderAll();
  }

  function onError(frame, item) {
    var code = frame.code || "";
    var ref = frame.ref;
    if (code === "not_authenticated") { sessionEnded(); return; }
    if (code === "unsupported_version") { stop(frame.message || t("reload")); return; }
    if (item) { app.chat.onRefused(frame, item); return; }   // one of our messages: ref is its client_id
    if (ref === "typing" || ref === "ping" || ref === "read" || ref === "heartbeat") return;   // nothing a person needs to act on
    if (ref === "fetch") return;   // the protocol client stops asking
    if (app.handoff.onError(frame)) return;
    if (ref === "claim") { app.queue.onClaimError(frame); return; }
    if (ref === "close") { app.chat.onCloseError(frame); return; }
    app.showAlert(el.globalAlerts, frame.message || t("unknown_error"));
  }

  function onDown(code) {
    state.pendingClaims.clear();
    app.chat.onDown();
    if (code === 4403) { sessionEnded(); return; }
    if (code === 4400) { stop(t("reload")); return; }
    app.renderAll();
  }

  function sessionEnded() {
    app.client.stop();
    el.sessionEnded.hidden = false;
    app.renderAll();
  }

  function stop(message) {
    app.client.stop();
    app.showAlert(el.globalAlerts, message);
    app.renderAll();
  }

  var connection = "connecting";
  function renderConnection(mode) {
    connection = mode;
    var text = "";
    el.connRetry.hidden = true;
    var dot = mode === "stopped" ? "ended" : mode;
    el.connDot.className = "conn-dot conn-" + dot;
    if (mode === "connecting") text = t("connecting");
    else if (mode === "reconnecting") text = t("reconnecting");
    else if (mode === "waiting") {
      var seconds = Math.max(1, Math.ceil((app.client.retryAt - Date.now()) / 1000));
      text = t("reconnecting_in", { seconds: seconds });
      el.connRetry.hidden = false;
    }
    var showBanner = mode === "reconnecting" || mode === "waiting";
    el.connBanner.hidden = !showBanner;
    if (showBanner && el.connText.textContent !== text) el.connText.textContent = text;
    var label = mode === "connected" ? t("connected") : mode === "stopped" ? t("offline") : text || t("connecting");
    el.connDot.title = label;
    el.connDotText.textContent = label;
    app.root.classList.toggle("is-offline", mode !== "connected");
  }

  // ---- plugins (reference/dashboard-attachments.js) register in window.RuangTanyaDashboardPlugins before us
  app.hook = P.plugins(window.RuangTanyaDashboardPlugins, {
    activeConversation: app.chat.active,
    queueMessage: app.chat.queueMessage,
    showAlert: function (text) { app.showAlert(el.chatAlerts, text); },
    fetch: function (conv, after, before) { app.send({ type: "fetch", conversation: conv.id, after: after, before: before }); },
    clearAlert: function () { app.clearAlert(el.chatAlerts); }
  });

  app.client = P.client({
    path: app.config.socketPath || "/ws/librarian/",
    hello: function () { return { lang: document.documentElement.lang || "id", since: app.chat.resumePoints() }; },
    have: app.chat.have,
    outbox: {
      // Kept in sessionStorage so that a reload retries too (this tab's, not every tab's).
      storage: P.store("sessionStorage", "ruangtanya.dashboard."), key: "outbox",
      toFrame: app.chat.messageFrame,
      resend: app.chat.resendable,
      valid: function (item) {
        if (typeof item.conversation !== "number" || typeof item.text !== "string") return false;
        item.status = "sending";
        return true;
      }
    },
    hook: app.hook,
    onFrame: onFrame,
    onDown: onDown,
    onStatus: function (mode) { renderConnection(mode); if (mode === "connected" || mode === "stopped") app.renderAll(); }
  });

  el.connRetry.addEventListener("click", app.client.reconnectNow);

  // Every second: the waiting times, the chat's times, the offers' countdowns, the reconnect
  // countdown, the dashboard's heartbeat.
  setInterval(function () {
    app.queue.tick();
    app.chat.tick();
    app.handoff.tick();
    app.team.tick();
    if (connection === "waiting") renderConnection("waiting");
  }, 1000);

  app.renderAll();
  app.client.start();
})(window.RuangTanyaDashboard);
