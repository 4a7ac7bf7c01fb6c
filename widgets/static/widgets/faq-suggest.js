/* Ruang Tanya: FAQ answers suggested from GET /api/faq/search, on both pages.
 *
 *   RuangTanyaFAQ.suggest(options)
 *
 * The widget (chat.js) passes {input, form, answered: true, site}: answers while the patron types a
 * question, before they join the queue; "This answered my question" is counted
 * (POST /api/faq/<slug>/answered) and ends there. (Keeping the question out of the FAQ is the
 * form's own checkbox, sent with the `start` frame: chat.js.)
 * The dashboard (dashboard/faq.js) passes {messages, composer, form}: answers for the patron's
 * latest messages in the open chat, with "Insert link" / "Insert answer" putting text into the
 * reply box for the librarian to send.
 * Either way it never touches the socket. Its strings: the page's faq-strings (faq/_suggest_strings.html). */
window.RuangTanyaFAQ = (function () {
  "use strict";

  var h = window.RuangTanyaDOM.h;

  function language() {
    return (document.documentElement.lang || "id").slice(0, 2) === "en" ? "en" : "id";
  }

  function suggest(o) {
    if (!window.fetch || !o.form) return null;
    var S = window.RuangTanyaDOM.strings("faq-strings");
    var patron = !!o.input;
    // A section, not an aside: on the dashboard it sits inside the main landmark, where a
    // complementary landmark may not be nested.
    var box = h("section", "faq-suggestions");
    box.id = "faq-suggestions";
    box.hidden = true;
    if (patron) {
      box.setAttribute("aria-live", "polite");
      o.input.parentNode.parentNode.insertBefore(box, o.input.parentNode.nextSibling);
    } else {
      box.setAttribute("aria-label", S.suggested || "Suggested FAQ answers");
      o.form.parentNode.insertBefore(box, o.form);
    }
    var timer = null, last = "", seq = 0;

    function link(hit) {
      var a = h("a", "faq-question", hit.question);
      a.href = hit.url; a.target = "_blank"; a.rel = "noopener";
      return a;
    }
    function button(className, text, onClick) {
      var b = h("button", className, text);
      b.type = "button";
      b.addEventListener("click", onClick);
      return b;
    }

    /* Librarian: text into the reply box, where the dashboard counts and sends it as usual. */
    function insert(text) {
      var v = o.composer.value;
      o.composer.value = v + (v && !/\s$/.test(v) ? "\n" : "") + text;
      o.composer.dispatchEvent(new Event("input", { bubbles: true }));
      o.composer.focus();
    }

    /* Patron: the answer was enough; count it, and the question form goes. */
    function answered(hit) {
      var url = hit.api_answered || ("/api/faq/" + encodeURIComponent(hit.slug) + "/answered");
      if (o.site) url += "?site=" + encodeURIComponent(o.site);  // the reports count it for the widget's site
      fetch(url, { method: "POST" })
        .catch(function () { /* a counter: losing one is fine */ });
      var done = h("div", "faq-done");
      done.appendChild(h("p", "faq-done-text", S.thanks || "Glad it helped!"));
      var more = h("a", "faq-done-link", S.read || "Read the whole answer");
      more.href = hit.url; more.target = "_blank"; more.rel = "noopener";
      done.appendChild(more);
      o.form.parentNode.insertBefore(box, o.form.nextSibling);  // the list sits inside the form until now
      o.form.hidden = true;
      box.textContent = "";
      box.appendChild(done);
      box.hidden = false;
    }

    function render(results) {
      box.textContent = "";
      if (!results.length) { box.hidden = true; return; }
      box.appendChild(h("h3", "faq-title", patron ? S.title || "These answers may help" : S.suggested || "Suggested FAQ answers"));
      var list = h("ul", "faq-list");
      results.forEach(function (hit) {
        var li = h("li", "faq-item");
        li.lang = hit.language;
        li.appendChild(link(hit));
        if (patron) {
          li.appendChild(h("p", "faq-excerpt", hit.answer_excerpt));
          if (o.answered) {
            li.appendChild(button("btn btn-small faq-answered", S.answered || "This answered my question",
              function () { answered(hit); }));
          }
        } else {
          li.appendChild(button("button small faq-insert-link", S.link || "Insert link", function () { insert(hit.url); }));
          li.appendChild(button("button small faq-insert-answer", S.answer || "Insert answer",
            function () { insert(hit.answer_excerpt + "\n" + hit.url); }));
        }
        list.appendChild(li);
      });
      box.appendChild(list);
      if (patron) box.appendChild(h("p", "faq-hint", S.hint || "Not what you need? Send your question and a librarian will answer."));
      box.hidden = false;
    }

    /* What to look up: the question being typed, or the patron's last two messages. */
    function query() {
      if (patron) return o.input.value.trim();
      var bodies = o.messages.querySelectorAll(".msg-patron .msg-body");
      var parts = [];
      for (var i = Math.max(0, bodies.length - 2); i < bodies.length; i++) parts.push(bodies[i].textContent);
      return parts.join(" ").trim();
    }

    function lookup() {
      var q = query();
      if (q === last) return;
      last = q;
      if (!q || q.length < (o.minChars || 0)) { render([]); return; }
      var mine = ++seq;
      var url = "/api/faq/search?limit=3&log=0&lang=" + language() + "&q=" + encodeURIComponent(q.slice(0, 1000));
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (body) { if (mine === seq) render(body.results || []); })
        .catch(function () { if (mine === seq) render([]); });
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(lookup, o.delay || (patron ? 350 : 300));
    }

    if (patron) {
      if (!o.minChars) o.minChars = 8;
      o.input.addEventListener("input", later);
    } else {
      new MutationObserver(later).observe(o.messages, { childList: true, subtree: true });
    }
    return { refresh: lookup };
  }

  return { suggest: suggest };
})();
