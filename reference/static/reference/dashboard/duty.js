/* Ruang Tanya dashboard: staying on duty (docs/staying-on-duty.md).
 *  - The chats that went back to the queue while the librarian was away (none of their staff pages
 *    open for the grace period): a banner from the welcome's `requeued_while_away` and every
 *    `duty.requeued`, until they dismiss it (`duty.dismiss`), which clears it in all their tabs.
 *  - Leaving the page with chats held asks first (beforeunload), except for the service's own pages
 *    (a link of ours, the language switch): those keep the librarian on duty (staff-duty.js).
 *  - Logging out with chats held asks, naming the count.
 * The banner's strings come from templates/reference/_dashboard_duty.html (duty-strings-KEY). */
(function (app) {
  "use strict";
  if (!app) return;
  var D = window.RuangTanyaDOM, h = app.h, el = app.el;
  var T = D.strings("duty-strings");
  function t(key, params) { return D.format(Object.prototype.hasOwnProperty.call(T, key) ? T[key] : key, params); }
  function $(id) { return document.getElementById(id); }
  var banner = $("duty-away"), bannerText = $("duty-away-text"), list = $("duty-away-list"), dismiss = $("duty-away-dismiss");
  if (!banner) return;

  var shown = [];   // the entries on the banner: [{id, subject, at}]

  function show(entries, announce) {
    var before = shown.map(function (e) { return e.id; }).join();
    shown = (Array.isArray(entries) ? entries : []).filter(function (e) { return e && typeof e.id === "number"; });
    banner.hidden = !shown.length;
    if (shown.map(function (e) { return e.id; }).join() === before) return;
    list.textContent = "";
    if (!shown.length) return;
    var words = t(shown.length === 1 ? "away_one" : "away_other", { count: shown.length });
    bannerText.textContent = words;
    shown.forEach(function (entry) {
      var item = h("li", "duty-away-item", "“" + (entry.subject || "") + "” ");
      item.appendChild(h("span", "duty-away-time", t("at", { time: app.clock(app.parseTime(entry.at)) })));
      list.appendChild(item);
    });
    if (announce) app.announce(words);
  }

  function welcome(frame) { show(frame.requeued_while_away, true); }
  function onRequeued(frame) {
    var hadFocus = banner.contains(document.activeElement);
    show(frame.requeued, true);
    if (hadFocus && banner.hidden) $("main").focus();   // the button went with the banner
  }

  dismiss.addEventListener("click", function () {
    if (!app.send({ type: "duty.dismiss", conversations: shown.map(function (e) { return e.id; }) })) {
      app.showAlert(el.globalAlerts, app.t("not_connected"));
    }
  });

  // ---- leaving the page ------------------------------------------------------------------
  function heldCount() {
    var n = 0;
    app.state.convs.forEach(function (conv) { if (conv.status === "active") n += 1; });
    return n;
  }

  var keeping = false, keepingTimer = 0;
  function keepDuty() {   // the next page is ours: the librarian stays on duty there
    keeping = true;
    clearTimeout(keepingTimer);
    keepingTimer = setTimeout(function () { keeping = false; }, 3000);   // the navigation did not happen
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || (link.target && link.target !== "_self") || link.hasAttribute("download")) return;
    if (link.origin !== location.origin) return;
    if (link.pathname === location.pathname && link.search === location.search) return;   // a place on this page
    keepDuty();
  });
  // The language switch submits its form from script (no submit event) and comes back here.
  var language = $("lang-select");
  if (language) language.addEventListener("change", keepDuty);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches || !form.matches(".logout-form")) return;
    var held = heldCount();
    if (held && !window.confirm(t(held === 1 ? "logout_one" : "logout_other", { count: held }))) {
      event.preventDefault();
      return;
    }
    keepDuty();   // asked once is enough
  });

  window.addEventListener("beforeunload", function (event) {
    if (keeping || !heldCount()) return;
    event.preventDefault();
    event.returnValue = "";   // browsers show their own words
  });

  app.duty = { welcome: welcome, onRequeued: onRequeued };
})(window.RuangTanyaDashboard);
