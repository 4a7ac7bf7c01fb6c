/* Ruang Tanya chat panel: news the patron cannot see yet.
 *
 * While the panel is closed or the tab is in the background, each librarian message counts as
 * unread: the loader shows the count on the launcher and in the tab's title (it owns both; we
 * post {type: "unread", count}), and a short beep sounds unless the patron switched it off (the
 * bell in the header, remembered in localStorage). chat.js fires "ruangtanya:message" for each
 * message it shows that is beyond the patron's read marker, live or not (a librarian who answered
 * while the patron moved to another page still counts). Messages to the loader:
 * {type: "unread", count}, {type: "ongoing", ongoing}. */
(function () {
  "use strict";

  var inFrame = window.parent !== window;
  var bell = document.getElementById("sound");
  var cfg = {};
  try { cfg = JSON.parse(document.getElementById("widget-config").textContent); } catch (e) { /* defaults */ }
  var KEY = "ruangtanya:" + cfg.siteKey + ":sound";
  var panelOpen = !(inFrame && location.hash === "#closed"), unread = 0, audio = null, counted = {};

  function soundOn() {
    try { return localStorage.getItem(KEY) !== "off"; } catch (e) { return bell.getAttribute("aria-pressed") !== "false"; }
  }
  function seen() { return panelOpen && !document.hidden; }
  function report() {
    if (inFrame) window.parent.postMessage({ source: "ruangtanya", type: "unread", count: unread }, "*");
  }
  /* A soft 880 Hz blip of a quarter second, made on the spot: no audio file to download. */
  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!soundOn() || !Context) return;
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") audio.resume();
      var osc = audio.createOscillator(), gain = audio.createGain(), t = audio.currentTime;
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.08, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.3);
    } catch (e) { /* no sound on this device: the count and the title still tell */ }
  }
  function caughtUp() {
    if (unread && seen()) { unread = 0; report(); }
  }

  document.addEventListener("ruangtanya:message", function (e) {
    var m = e.detail, key = m && m.conversation + ":" + m.seq;
    if (!m || m.role !== "librarian" || seen() || counted[key]) return;
    counted[key] = true;
    unread += 1;
    report();
    beep();
  });
  window.addEventListener("message", function (e) {
    var m = e.data;
    if (!inFrame || e.source !== window.parent || !m || m.source !== "ruangtanya" || m.type !== "panel") return;
    panelOpen = !!m.open;
    caughtUp();
  });
  document.addEventListener("visibilitychange", caughtUp);

  /* Whether a chat is going on (chat.js marks #app with its status): the loader then loads the
     closed panel on the library's next pages too, so answers still reach the patron there. */
  var ongoing = null;
  new MutationObserver(function () {
    var now = /^(queued|active)$/.test(document.getElementById("app").dataset.status || "");
    if (now === ongoing || !inFrame) return;
    ongoing = now;
    window.parent.postMessage({ source: "ruangtanya", type: "ongoing", ongoing: now }, "*");
  }).observe(document.getElementById("app"), { attributes: true, attributeFilter: ["data-status"] });

  function showBell() { bell.setAttribute("aria-pressed", String(soundOn())); }
  bell.addEventListener("click", function () {
    var on = !soundOn();
    try { localStorage.setItem(KEY, on ? "on" : "off"); } catch (e) { /* this page only */ }
    bell.setAttribute("aria-pressed", String(on));
  });
  showBell();
})();
