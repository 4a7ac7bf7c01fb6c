/* Suggested FAQ entries in the librarian's chat pane, for the patron's latest question.
 *
 * Reads the open chat's patron messages from the page (#messages), asks GET /api/faq/search, and
 * offers per entry: "Insert link" and "Insert answer", which put text into #composer-input for the
 * librarian to send. It does not touch dashboard.js or the socket. */
(function () {
  "use strict";
  var messages = document.getElementById("messages");
  var composer = document.getElementById("composer-input");
  var form = document.getElementById("composer");
  if (!messages || !composer || !form || !window.fetch) return;
  var strings = {};
  try { strings = JSON.parse(document.getElementById("faq-strings").textContent); } catch (e) { /* defaults */ }
  var box = document.createElement("aside");
  box.id = "faq-suggestions";
  box.className = "faq-suggestions";
  box.setAttribute("aria-label", strings.title || "Suggested FAQ answers");
  box.hidden = true;
  form.parentNode.insertBefore(box, form);
  var last = "", seq = 0, timer = null;

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }

  function insert(text) {
    var v = composer.value;
    composer.value = v + (v && !/\s$/.test(v) ? "\n" : "") + text;
    composer.dispatchEvent(new Event("input", { bubbles: true }));
    composer.focus();
  }

  function render(results) {
    box.textContent = "";
    if (!results.length) { box.hidden = true; return; }
    box.appendChild(el("h3", "faq-title", strings.title || "Suggested FAQ answers"));
    var list = el("ul", "faq-list");
    results.forEach(function (hit) {
      var li = el("li", "faq-item");
      li.lang = hit.language;
      var a = el("a", "faq-question", hit.question);
      a.href = hit.url; a.target = "_blank"; a.rel = "noopener";
      li.appendChild(a);
      var link = el("button", "button small faq-insert-link", strings.link || "Insert link");
      link.type = "button";
      link.addEventListener("click", function () { insert(hit.url); });
      var answer = el("button", "button small faq-insert-answer", strings.answer || "Insert answer");
      answer.type = "button";
      answer.addEventListener("click", function () { insert(hit.answer_excerpt + "\n" + hit.url); });
      li.appendChild(link);
      li.appendChild(answer);
      list.appendChild(li);
    });
    box.appendChild(list);
    box.hidden = false;
  }

  function patronQuestion() {
    var bodies = messages.querySelectorAll(".msg-patron .msg-body");
    var parts = [];
    for (var i = Math.max(0, bodies.length - 2); i < bodies.length; i++) parts.push(bodies[i].textContent);
    return parts.join(" ").trim();
  }

  function refresh() {
    var q = patronQuestion();
    if (q === last) return;
    last = q;
    if (!q) { render([]); return; }
    var lang = (document.documentElement.lang || "id").slice(0, 2) === "en" ? "en" : "id";
    var mine = ++seq;
    fetch("/api/faq/search?limit=3&log=0&lang=" + lang + "&q=" + encodeURIComponent(q.slice(0, 1000)))
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (body) { if (mine === seq) render(body.results || []); })
      .catch(function () { if (mine === seq) render([]); });
  }

  new MutationObserver(function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }).observe(messages, { childList: true, subtree: true });
})();
