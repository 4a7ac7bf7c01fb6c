/* Ruang Tanya: FAQ answers suggested from GET /api/faq/search, on both pages.
 *
 *   RuangTanyaFAQ.suggest(options)
 *
 * The widget (chat.js) passes {input, form, answered: true, site}: answers from the FAQ of the site's
 * library (`site=<key>` on every call) while the patron types a
 * question, before they join the queue; "This answered my question" is counted
 * (POST /api/faq/<slug>/answered) and ends there. (Keeping the question out of the FAQ is the
 * form's own checkbox, sent with the `start` frame: chat.js.)
 * The dashboard (dashboard/faq.js) passes {messages, composer, form, conversation}: answers for the
 * patron's latest messages in the open chat, from the FAQ of that chat's library (`conversation()`
 * gives its id, sent as `conversation=<id>`; a chat covered for another library gets that library's), with "Insert link" / "Insert answer" putting text into the
 * reply box for the librarian to send.
 * Either way it never touches the socket. Its strings: the page's faq-strings (faq/_suggest_strings.html).
 *
 * A translation pair fills one slot: the server sends it once, in the reader's language where it has
 * one, with the other member under `translations` (linked, never listed again). Results marked
 * `confident` are shown as answers, the others under "Related"; with neither, nothing is shown. */
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

    /* Whose FAQ: the widget's site, or the library of the chat open on the dashboard. */
    function scope() {
      if (o.site) return "&site=" + encodeURIComponent(o.site);
      var id = typeof o.conversation === "function" ? o.conversation() : o.conversation;
      return id ? "&conversation=" + encodeURIComponent(id) : "";
    }

    function link(hit) {
      var a = h("a", "faq-question", hit.question);
      a.href = hit.url; a.target = "_blank"; a.rel = "noopener";
      a.lang = hit.language;
      return a;
    }
    /* A question only in the other language: that language's own name, in that language. */
    function languageMark(hit) {
      var mark = h("span", "tag faq-language", (hit.language === "en" ? S.nameEn : S.nameId) || hit.language);
      mark.lang = hit.language;
      return mark;
    }
    /* The pair's other member ("Read in English"), for a reader of both languages. */
    function translationLink(t) {
      var a = h("a", "faq-translation", t.language === "en" ? S.readEn : S.readId);
      a.href = t.url; a.target = "_blank"; a.rel = "noopener"; a.hreflang = t.language;
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

    /* One slot per pair, even if the server sent a member of a listed pair again. */
    function onePerPair(results) {
      var taken = {};
      return results.filter(function (hit) {
        if (taken[hit.slug]) return false;
        taken[hit.slug] = true;
        (hit.translations || []).forEach(function (t) { taken[t.slug] = true; });
        return true;
      });
    }

    function item(hit, isAnswer) {
      var li = h("li", isAnswer ? "faq-item" : "faq-item faq-related-item");
      li.appendChild(link(hit));
      if (hit.language !== language()) { li.appendChild(document.createTextNode(" ")); li.appendChild(languageMark(hit)); }
      if (patron && isAnswer) {
        var text = h("p", "faq-excerpt", hit.answer_excerpt);
        text.lang = hit.language;
        li.appendChild(text);
      }
      if (hit.translations && hit.translations.length) {
        var others = h("p", "faq-translations");
        hit.translations.forEach(function (t) { others.appendChild(translationLink(t)); });
        li.appendChild(others);
      }
      actions(hit, isAnswer).forEach(function (b) { li.appendChild(b); });
      return li;
    }

    /* The patron says an answer was enough; the librarian puts a related entry in the reply too. */
    function actions(hit, isAnswer) {
      if (patron) {
        return isAnswer && o.answered ? [button("btn btn-small faq-answered", S.answered || "This answered my question",
          function () { answered(hit); })] : [];
      }
      return [button("button small faq-insert-link", S.link || "Insert link", function () { insert(hit.url); }),
              button("button small faq-insert-answer", S.answer || "Insert answer",
                function () { insert(hit.answer_excerpt + "\n" + hit.url); })];
    }

    function section(className, title, hits, isAnswer) {
      box.appendChild(h("h3", className, title));
      var list = h("ul", isAnswer ? "faq-list" : "faq-list faq-related");
      hits.forEach(function (hit) { list.appendChild(item(hit, isAnswer)); });
      box.appendChild(list);
    }

    function render(results) {
      box.textContent = "";
      results = onePerPair(results);
      var answers = results.filter(function (hit) { return hit.confident; });
      var related = results.filter(function (hit) { return !hit.confident; });
      if (!results.length) { box.hidden = true; return; }
      if (answers.length) {
        section("faq-title", patron ? S.title || "These answers may help" : S.suggested || "Suggested FAQ answers",
          answers, true);
      }
      if (related.length) section("faq-title faq-related-title", S.related || "Related", related, false);
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
      var where = scope();
      if (q + where === last) return;
      last = q + where;
      if (!q || q.length < (o.minChars || 0)) { render([]); return; }
      var mine = ++seq;
      var url = "/api/faq/search?limit=3&log=0&lang=" + language() + where + "&q=" + encodeURIComponent(q.slice(0, 1000));
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
