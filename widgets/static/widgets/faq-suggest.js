/* FAQ answers while the patron types a question, before they join the queue.
 *
 * Talks to GET /api/faq/search over HTTP; "This answered my question" is counted
 * (POST /api/faq/<slug>/answered) and ends there. Otherwise the patron sends the question as before:
 * this script never touches the chat itself (chat.js). */
(function () {
  "use strict";
  var input = document.getElementById("q");
  var form = document.getElementById("start-form");
  if (!input || !form || !window.fetch) return;
  var strings = {};
  try { strings = JSON.parse(document.getElementById("faq-strings").textContent); } catch (e) { /* defaults */ }
  var lang = (document.documentElement.lang || "id").slice(0, 2) === "en" ? "en" : "id";
  var MIN_CHARS = 8, DELAY = 350;
  var box = document.createElement("section");
  box.id = "faq-suggestions";
  box.className = "faq-suggestions";
  box.setAttribute("aria-live", "polite");
  box.hidden = true;
  input.parentNode.parentNode.insertBefore(box, input.parentNode.nextSibling);
  var timer = null, last = "", seq = 0;

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }

  function answered(hit) {
    fetch(hit.api_answered || ("/api/faq/" + encodeURIComponent(hit.slug) + "/answered"), { method: "POST" })
      .catch(function () { /* a counter: losing one is fine */ });
    var done = el("div", "faq-done");
    done.appendChild(el("p", "faq-done-text", strings.thanks || "Glad it helped!"));
    var link = el("a", "faq-done-link", strings.read || "Read the whole answer");
    link.href = hit.url; link.target = "_blank"; link.rel = "noopener";
    done.appendChild(link);
    form.parentNode.insertBefore(box, form.nextSibling);  // the list sits inside the form until now
    form.hidden = true;
    box.textContent = "";
    box.appendChild(done);
    box.hidden = false;
  }

  function render(results) {
    box.textContent = "";
    if (!results.length) { box.hidden = true; return; }
    box.appendChild(el("h3", "faq-title", strings.title || "These answers may help"));
    var list = el("ul", "faq-list");
    results.forEach(function (hit) {
      var li = el("li", "faq-item");
      li.lang = hit.language;
      var a = el("a", "faq-question", hit.question);
      a.href = hit.url; a.target = "_blank"; a.rel = "noopener";
      li.appendChild(a);
      li.appendChild(el("p", "faq-excerpt", hit.answer_excerpt));
      var btn = el("button", "btn btn-small faq-answered", strings.answered || "This answered my question");
      btn.type = "button";
      btn.addEventListener("click", function () { answered(hit); });
      li.appendChild(btn);
      list.appendChild(li);
    });
    box.appendChild(list);
    box.appendChild(el("p", "faq-hint", strings.hint || "Not what you need? Send your question and a librarian will answer."));
    box.hidden = false;
  }

  function lookup() {
    var q = input.value.trim();
    if (q === last) return;
    last = q;
    if (q.length < MIN_CHARS) { render([]); return; }
    var mine = ++seq;
    var url = "/api/faq/search?limit=3&log=0&lang=" + lang + "&q=" + encodeURIComponent(q.slice(0, 1000));
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (body) { if (mine === seq) render(body.results || []); })
      .catch(function () { if (mine === seq) render([]); });
  }

  // Told once, in the form: questions may be reused anonymously; a box to opt this chat out.
  var notice = el("p", "hint faq-reuse");
  var optOut = document.createElement("input");
  optOut.type = "checkbox";
  optOut.id = "faq-opt-out";
  var label = el("label", null, " " + (strings.opt_out || "Do not reuse my question"));
  label.htmlFor = "faq-opt-out";
  notice.appendChild(el("span", null, (strings.reuse || "Questions may be reused anonymously for the FAQ.") + " "));
  notice.appendChild(optOut);
  notice.appendChild(label);
  var submit = form.querySelector("button[type=submit]");
  form.insertBefore(notice, submit ? submit.nextSibling : null);

  function patronToken() {
    var cfg = {};
    try { cfg = JSON.parse(document.getElementById("widget-config").textContent); } catch (e) { /* none */ }
    var stored = null;
    try { stored = localStorage.getItem("ruangtanya:" + cfg.siteKey + ":token"); } catch (e) { /* blocked */ }
    if (stored) return stored;
    try { return JSON.parse(document.getElementById("widget-token").textContent); } catch (e) { return null; }
  }

  // The conversation is made over the socket (chat.js) after this submit; mark it once it exists.
  form.addEventListener("submit", function () {
    if (!optOut.checked) return;
    var tries = 0;
    (function attempt() {
      tries += 1;
      fetch("/api/faq/opt-out", { method: "POST", headers: { "Content-Type": "application/json" },
                                  body: JSON.stringify({ token: patronToken(), opt_out: true }) })
        .then(function (r) { return r.json(); })
        .then(function (body) { if (!body.marked && tries < 20) setTimeout(attempt, 500); })
        .catch(function () { if (tries < 20) setTimeout(attempt, 1000); });
    })();
  });

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, DELAY);
  });
})();
