/* Ruang Tanya dashboard: alerts for a librarian whose tab is in the background.
 *
 * While the tab is hidden, a new waiting chat in one of my queues, a chat offered to me (by a
 * colleague or by automatic routing) and a new patron message in a chat I hold can show a desktop
 * notification and play a short tone; both are opt-in from the Alerts menu
 * (_dashboard_desk_tools.html) and remembered in this browser (localStorage). The tab's title counts
 * the waiting chats plus the messages that arrived while the tab was hidden (app.renderTitle asks
 * `app.alerts.unseen()`); coming back to the tab clears the latter.
 *
 * The other modules say what happened with app.emit (queue.js "waiting", handoff.js "offer",
 * chat.js "message"; detail {conversation: id, text: what the screen reader was told}). */
(function (app) {
  "use strict";
  if (!app) return;
  var t = app.t, state = app.state, el = app.el;
  var prefs = window.RuangTanyaProtocol.store("localStorage", "ruangtanya.dashboard.alerts.");
  function $(id) { return document.getElementById(id); }
  var menu = $("alerts-menu"), toggle = $("alerts-toggle"), panel = $("alerts-panel");
  var notifyBox = $("alerts-notify"), notifyHint = $("alerts-notify-hint"), soundBox = $("alerts-sound");
  if (!menu) return;

  var TITLES = { waiting: t("notify_waiting"), offer: t("notify_offer"), message: t("notify_message") };
  var unseen = 0;   // patron messages that arrived while the tab was hidden
  var TONE_GAP_MS = 1500, lastTone = 0;   // one tone for what arrives together (a chat waiting and offered)

  // ---- the choices -----------------------------------------------------------------------
  function canNotify() { return "Notification" in window; }
  function notifyOn() {
    return prefs.get("notify") === "1" && canNotify() && Notification.permission === "granted";
  }
  function soundOn() { return prefs.get("sound") === "1"; }

  function renderChoices() {
    notifyBox.checked = notifyOn();
    notifyBox.disabled = !canNotify();
    notifyHint.textContent = !canNotify() ? t("notify_unsupported")
      : Notification.permission === "denied" ? t("notify_blocked") : "";
    notifyHint.hidden = !notifyHint.textContent;
    soundBox.checked = soundOn();
  }

  /* The browser asks for permission only now, when the librarian switches notifications on. */
  function askPermission(done) {
    var answered = false;
    function once(answer) { if (!answered) { answered = true; done(answer); } }
    var asked = Notification.requestPermission(once);   // older Safari: a callback; others: a promise
    if (asked && asked.then) asked.then(once);
  }

  notifyBox.addEventListener("change", function () {
    if (!notifyBox.checked) { prefs.set("notify", "0"); renderChoices(); return; }
    if (Notification.permission === "granted") { prefs.set("notify", "1"); renderChoices(); return; }
    askPermission(function (answer) {
      prefs.set("notify", answer === "granted" ? "1" : "0");
      renderChoices();
    });
  });

  soundBox.addEventListener("change", function () {
    prefs.set("sound", soundBox.checked ? "1" : "0");
    if (soundBox.checked) beep();   // what it will sound like (and the click lets the audio start)
  });

  // ---- the menu: a disclosure; Escape or a click elsewhere closes it -----------------------
  function setOpen(open, focusToggle) {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) renderChoices();
    if (!open && focusToggle) toggle.focus();
  }
  toggle.addEventListener("click", function () { setOpen(panel.hidden, false); });
  menu.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) { event.preventDefault(); setOpen(false, true); }
  });
  document.addEventListener("click", function (event) {
    if (!panel.hidden && !menu.contains(event.target)) setOpen(false, false);
  });

  // ---- the tone: WebAudio, no file ---------------------------------------------------------
  var audio = null;
  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
    return audio;
  }
  function beep() {
    var context = audioContext();
    if (!context) return;
    var now = context.currentTime;
    var tone = context.createOscillator(), gain = context.createGain();
    tone.type = "sine";
    tone.frequency.setValueAtTime(660, now);
    tone.frequency.setValueAtTime(880, now + 0.12);   // two short notes, rising: friendly, not alarming
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.15, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.3);
    tone.connect(gain);
    gain.connect(context.destination);
    tone.start(now);
    tone.stop(now + 0.32);
  }
  // Browsers start audio only after a gesture on the page: after a reload, the first one unlocks it.
  function unlock() { if (soundOn()) audioContext(); }
  document.addEventListener("pointerdown", unlock, { once: true, capture: true });
  document.addEventListener("keydown", unlock, { once: true, capture: true });

  // ---- alerting ----------------------------------------------------------------------------
  /* Clicking a notification brings the tab forward at the chat it is about. */
  function show(kind, id) {
    window.focus();
    if (kind === "message" && state.convs.has(id)) { app.chat.select(id, true); return; }
    var target = kind === "waiting" ? el.queueList.querySelector('[data-conversation="' + id + '"] button')
      : el.offers.querySelector(".offer button");
    if (target) target.focus();
  }

  function signal(kind, detail) {
    if (!document.hidden) return;   // on screen, the page itself (and the screen reader) says it
    if (soundOn() && Date.now() - lastTone > TONE_GAP_MS) { lastTone = Date.now(); beep(); }
    if (!notifyOn()) return;
    var notification;
    try {
      // One per chat: several dashboard tabs, a second message, or routing offering the chat that
      // was just announced as waiting replace the notification rather than pile up.
      notification = new Notification(TITLES[kind], { body: detail.text, tag: "ruangtanya-chat-" + detail.conversation,
                                                      lang: document.documentElement.lang });
    } catch (e) {
      return;   // e.g. Chrome on Android shows notifications from a service worker only
    }
    notification.onclick = function () { notification.close(); show(kind, detail.conversation); };
  }

  ["waiting", "offer", "message"].forEach(function (kind) {
    app.root.addEventListener("ruangtanya:" + kind, function (event) {
      if (kind === "message" && document.hidden) { unseen += 1; app.renderTitle(); }
      signal(kind, event.detail);
    });
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !unseen) return;
    unseen = 0;
    app.renderTitle();
  });

  app.alerts = { unseen: function () { return unseen; } };
  renderChoices();
})(window.RuangTanyaDashboard);
