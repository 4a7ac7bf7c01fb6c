/* Ruang Tanya widget loader, served as /widget.js. Embed with:
 *   <script src="https://HOST/widget.js" data-site="SITE_KEY" async></script>
 * optional: data-lang="id" or data-lang="en".
 * It draws a launcher button that opens the chat panel (an iframe on our origin) and nothing
 * else: no cookies, no globals besides a guard flag, styles kept inside a shadow root. */
(function () {
  "use strict";
  var w = window, d = document, TAG = "[Ruang Tanya]";
  var script = d.currentScript || d.querySelector('script[data-site][src*="widget.js"]');
  if (!script || !w.fetch || !Element.prototype.attachShadow) return;
  var key = script.getAttribute("data-site") || "";
  var lang = script.getAttribute("data-lang") || "";
  var origin;
  try { origin = new URL(script.src, location.href).origin; } catch (e) { return; }
  var guard = "__ruangtanya_" + key;
  if (w[guard]) return; // embedded twice: draw once
  w[guard] = 1;
  if (!key) { console.warn(TAG + " the script tag has no data-site attribute."); return; }
  // data-lang, else the browser's language; the service falls back to Accept-Language, then Indonesian.
  lang = (lang || navigator.language || "").slice(0, 2).toLowerCase();
  var query = /^[a-z]{2}$/.test(lang) ? "?lang=" + lang : "";

  fetch(origin + "/widget/sites/" + encodeURIComponent(key) + "/config" + query, { credentials: "omit" })
    .then(function (r) {
      if (r.ok) return r.json();
      console.warn(TAG + (r.status === 404 ? ' no widget site with the key "' + key + '".'
        : r.status === 403 ? " this page (" + location.origin + ") is not allowed to embed the widget."
        : " could not load the widget settings (HTTP " + r.status + ")."));
    }, function () {
      // The service answers 403 without CORS headers, so a refused origin also lands here.
      console.warn(TAG + " could not load the widget settings: the service is unreachable, or this page ("
        + location.origin + ") is not allowed to embed the widget.");
    })
    .then(function (cfg) {
      if (!cfg || !cfg.chat_url) return;
      if (d.body) draw(cfg); else d.addEventListener("DOMContentLoaded", function () { draw(cfg); });
    });

  var CSS =
    ":host{all:initial}" +
    "*{box-sizing:border-box}" +
    ".l{position:fixed;right:20px;bottom:20px;z-index:1;display:flex;align-items:center;gap:8px;" +
    "margin:0;padding:0 20px 0 16px;height:52px;min-width:52px;max-width:calc(100vw - 40px);border:2px solid #fff;" +
    "border-radius:26px;background:#115e67;color:#fff;font:600 16px/1.2 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;" +
    "cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.28);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}" +
    ".l:hover{background:#0c4a52}" +
    ".l:focus-visible{outline:3px solid #115e67;outline-offset:3px}" +
    ".l svg{flex:none;width:24px;height:24px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}" +
    ".l .x,.l[aria-expanded=true] .c{display:none}.l[aria-expanded=true] .x{display:block}" +
    ".p{position:fixed;right:20px;bottom:84px;z-index:2;width:370px;height:560px;max-height:calc(100vh - 104px);" +
    "border-radius:14px;overflow:hidden;background:#fff;box-shadow:0 10px 40px rgba(0,0,0,.3);" +
    "visibility:hidden;opacity:0;transform:translateY(12px)}" +
    ".p.o{visibility:visible;opacity:1;transform:none}" +
    ".p iframe{display:block;width:100%;height:100%;border:0;margin:0;padding:0;background:#fff}" +
    "@media (prefers-reduced-motion:no-preference){.p{transition:opacity .18s,transform .18s,visibility 0s .18s}" +
    ".p.o{transition:opacity .18s,transform .18s}}" +
    // Phones, and big zoom (200% of a laptop screen): the panel takes the whole window.
    "@media (max-width:480px),(max-height:500px){.p{inset:0;width:auto;height:auto;max-height:none;border-radius:0}" +
    ".l{right:12px;bottom:12px}}" +
    ".b{min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b42318;color:#fff;font-size:13px;" +
    "line-height:22px;text-align:center}.b:empty{display:none}" +
    ".i{position:fixed;right:20px;bottom:84px;z-index:1;display:flex;align-items:center;max-width:calc(100vw - 40px);" +
    "border-radius:14px;background:#fff;color:#1f2933;box-shadow:0 6px 24px rgba(0,0,0,.25);" +
    "font:500 15px/1.35 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".i button{margin:0;border:0;background:none;color:inherit;font:inherit;cursor:pointer;min-height:44px}" +
    ".i .t{padding:10px 4px 10px 16px;text-align:left}.i .t:hover{text-decoration:underline}" +
    ".i .d{width:44px;font-size:22px;color:#52606d}" +
    ".i button:focus-visible{outline:3px solid #115e67;outline-offset:-3px;border-radius:14px}" +
    "@media print{.l,.p,.i{display:none}}";
  var ICONS =
    '<svg class="c" viewBox="0 0 24 24" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.5-4.9A8 8 0 1 1 21 12z"/></svg>' +
    '<svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';

  function today() { var t = new Date(); return t.getFullYear() + "-" + (t.getMonth() + 1) + "-" + t.getDate(); }
  function store(name, value) { // the host page's localStorage; it may be off, then we forget
    try {
      if (value === undefined) return localStorage.getItem("ruangtanya:" + key + ":" + name);
      localStorage.setItem("ruangtanya:" + key + ":" + name, value);
    } catch (e) { return null; }
  }

  function draw(cfg) {
    var host = d.createElement("div");
    host.id = "ruangtanya-widget";
    // Styles through the CSSOM, not a style attribute or a <style> element: a host page whose
    // Content-Security-Policy has no 'unsafe-inline' in style-src (our own /demo/ page) allows these.
    host.style.cssText = "all:initial!important;position:fixed!important;right:0!important;bottom:0!important;" +
      "width:0!important;height:0!important;z-index:2147483000!important;display:block!important";
    var root = host.attachShadow({ mode: "open" });
    var style = null;
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) { // older browsers: a <style> element (needs style-src 'unsafe-inline' under a CSP)
      style = d.createElement("style");
      style.textContent = CSS;
    }
    var btn = d.createElement("button");
    btn.type = "button";
    btn.className = "l";
    btn.setAttribute("aria-expanded", "false");
    btn.setAttribute("aria-controls", "rt-panel");
    btn.innerHTML = ICONS; // constant markup; the label below is text only
    var label = d.createElement("span");
    btn.appendChild(label);
    var badge = d.createElement("span"); // unread messages while the panel is closed or the tab hidden
    badge.className = "b";
    badge.setAttribute("aria-hidden", "true");
    btn.appendChild(badge);
    var panel = d.createElement("div");
    panel.className = "p";
    panel.id = "rt-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", cfg.title || cfg.name || "");
    if (style) root.appendChild(style);
    root.appendChild(btn);
    root.appendChild(panel);
    d.body.appendChild(host);

    var frame = null, open = false;
    var src = cfg.chat_url + (query ? (cfg.chat_url.indexOf("?") < 0 ? "?" : "&") + query.slice(1) : "");
    var frameOrigin = new URL(src, origin).origin;

    var unread = 0, title = d.title;
    function setLabel() {
      var text = open ? cfg.close_label : cfg.launcher_label;
      label.textContent = text;
      badge.textContent = unread || "";
      btn.setAttribute("aria-label", unread ? text + ", " + (unread === 1 ? cfg.unread_one : cfg.unread_many)
        .replace("{n}", unread) : text);
    }
    function setUnread(n) {
      if (!unread) title = d.title; // the host page may have changed its title since
      unread = n;
      d.title = n ? "(" + n + ") " + title : title;
      setLabel();
    }
    function load() {
      if (frame) return;
      frame = d.createElement("iframe");
      frame.src = open ? src : src + "#closed"; // the chat knows it is unseen before we can tell it
      frame.title = cfg.title || cfg.name || "";
      // No navigating the host page from the frame (pointless, and warned about, on our own origin).
      if (frameOrigin !== location.origin) {
        frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox");
      }
      frame.addEventListener("load", function () {
        tell();
        // The frame took focus before its page existed: hand it to the page now.
        if (open && d.activeElement === host) try { frame.contentWindow.focus(); } catch (e) { /* no */ }
      });
      panel.appendChild(frame);
    }
    // Tell the chat whether the patron can see it (read receipts, unread count); only our frame may listen.
    function tell() {
      try { frame.contentWindow.postMessage({ source: "ruangtanya", type: "panel", open: open }, frameOrigin); } catch (e) { /* loading */ }
    }
    function toggle(show, refocus) {
      open = show;
      if (show) { invitation(false); load(); }
      panel.className = show ? "p o" : "p";
      btn.setAttribute("aria-expanded", String(show));
      setLabel();
      tell();
      if (show) frame.focus();
      else if (refocus) btn.focus();
    }
    setLabel();
    btn.addEventListener("click", function () { toggle(!open, false); });
    d.addEventListener("keydown", function (e) { // from the launcher (the frame posts its own)
      if (e.key === "Escape" && open && d.activeElement === host) toggle(false, true);
    });
    w.addEventListener("message", function (e) {
      // Only our own chat frame may close the panel; anything else is ignored unread.
      if (!frame || e.origin !== frameOrigin || e.source !== frame.contentWindow) return;
      var m = e.data;
      if (!m || m.source !== "ruangtanya") return;
      if (m.type === "close" && open) toggle(false, true);
      if (m.type === "unread" && typeof m.count === "number") setUnread(Math.max(0, Math.floor(m.count)));
      if (m.type === "ongoing") store("ongoing", m.ongoing ? "1" : "");
    });
    // A chat is going on (asked on an earlier page): load the closed panel now, so answers are counted.
    if (store("ongoing")) load();
    if (cfg.invite_after > 0 && store("invited") !== today()) setTimeout(invitation, cfg.invite_after * 1000, true);

    /* "Need help? Ask a librarian", once a day at most: dismissing or opening the chat counts. */
    var bubble = null;
    function invitation(show) {
      if (show && !open && !bubble) {
        bubble = d.createElement("div");
        bubble.className = "i";
        bubble.setAttribute("role", "status");
        var ask = d.createElement("button"), dismiss = d.createElement("button");
        ask.type = dismiss.type = "button";
        ask.className = "t";
        ask.textContent = cfg.invite_text;
        dismiss.className = "d";
        dismiss.textContent = "\u00d7";
        dismiss.setAttribute("aria-label", cfg.dismiss_label);
        ask.addEventListener("click", function () { toggle(true, false); });
        dismiss.addEventListener("click", function () { invitation(false); btn.focus(); });
        bubble.appendChild(ask);
        bubble.appendChild(dismiss);
        root.appendChild(bubble);
      } else if (!show && bubble) {
        store("invited", today());
        bubble.remove();
        bubble = null;
      }
    }
  }
})();
