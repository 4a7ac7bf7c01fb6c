/* Ruang Tanya dashboard: the team — colleagues' presence, my status and how many chats I
 * take at once, and the dashboard's own heartbeat (proof that the librarian is really here). */
(function (app) {
  "use strict";
  if (!app) return;
  var state = app.state, el = app.el, t = app.t, h = app.h;
  var beatMs = 20000;   // the server's heartbeat interval, from the welcome
  var beatAt = 0;

  function welcome(frame) {
    if (frame.librarian && frame.librarian.status) el.myStatus.value = frame.librarian.status;
    state.team.clear();
    (frame.colleagues || []).forEach(function (p) { if (p && typeof p.id === "number") state.team.set(p.id, p); });
    if (frame.heartbeat > 0) beatMs = frame.heartbeat * 1000;
    beatAt = Date.now();   // the hello counted as one
    render();
  }

  function onPresence(p) {
    if (!p || typeof p.id !== "number") return;
    state.team.set(p.id, p);
    if (p.id === state.me.id && p.status) el.myStatus.value = p.status;
    if (p.id === state.me.id && p.capacity) { state.me.max_chats = p.capacity; app.chat.renderList(); }
    render();
  }

  function render() {
    var people = Array.from(state.team.values()).sort(function (a, b) {
      var rank = { available: 0, away: 1, offline: 2 };
      return (rank[a.presence] - rank[b.presence]) || a.name.localeCompare(b.name);
    });
    el.teamList.textContent = "";
    people.forEach(function (p) {
      var li = h("li", "team-item presence-" + p.presence);
      li.appendChild(h("span", "presence-dot"));
      li.appendChild(h("span", "team-name", p.name + (p.id === state.me.id ? " " + t("you_mark") : "")));
      var detail = t("presence_" + p.presence);
      if (p.presence !== "offline") detail += " · " + t("load", { held: p.held, capacity: p.capacity });
      li.appendChild(h("span", "team-detail", detail));
      el.teamList.appendChild(li);
    });
  }

  /* Every second: the heartbeat frame every heartbeat interval (20 s) while connected. */
  function tick() {
    if (app.ready() && Date.now() - beatAt >= beatMs && app.send({ type: "heartbeat" })) beatAt = Date.now();
  }

  el.myStatus.addEventListener("change", function () { app.send({ type: "status", status: el.myStatus.value }); });
  el.capacityMax.addEventListener("change", function () { app.send({ type: "capacity", max_chats: parseInt(el.capacityMax.value, 10) }); });

  app.team = { welcome: welcome, onPresence: onPresence, render: render, tick: tick };
})(window.RuangTanyaDashboard);
