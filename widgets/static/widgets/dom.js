/* Ruang Tanya: the small DOM helper shared by the widget (chat.js) and the dashboard.
 *
 * window.RuangTanyaDOM:
 *   h(tag, className, text)      an element; `text` (if given) set as textContent, never as HTML
 *   appendText(parent, text)     text as text nodes, with http(s):// and www. links as safe anchors
 *   findLinks(text)              [{start, end, text, href}]: the links appendText makes (for tests)
 *   strings(containerId)         the page's translated strings: one json_script per string inside
 *                                the container, key = the part of its id after the last "-"
 *   format(template, params)     "{name} is typing…" + {name: "Siti"} → "Siti is typing…"
 *
 * People's text is only ever inserted with textContent and text nodes. */
window.RuangTanyaDOM = (function () {
  "use strict";

  function h(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /* A candidate starts with http://, https:// or www. at a word boundary and runs to white space
     or a character that cannot be part of a link in running text. */
  var LINK_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
  var CLOSING = { ")": "(", "]": "[", "}": "{" };

  function count(text, ch) { return text.split(ch).length - 1; }

  /* Leave trailing punctuation outside the link, and a closing bracket unless the link opened one
     ("https://en.wikipedia.org/wiki/Medan_(city)" keeps its bracket, "(see https://a.org)" does not). */
  function trim(url) {
    for (;;) {
      var last = url.charAt(url.length - 1);
      if (/[.,;:!?'"*]/.test(last)) { url = url.slice(0, -1); continue; }
      if (CLOSING[last] && count(url, last) > count(url, CLOSING[last])) { url = url.slice(0, -1); continue; }
      return url;
    }
  }

  function findLinks(text) {
    text = String(text || "");
    var found = [], match;
    LINK_RE.lastIndex = 0;
    while ((match = LINK_RE.exec(text)) !== null) {
      var start = match.index;
      // "name@www.example.org" or "…/www.example.org" are part of something else.
      if (/^www\./i.test(match[0]) && start > 0 && /[@.\/\-]/.test(text.charAt(start - 1))) continue;
      var url = trim(match[0]);
      var href = null;
      try {
        var parsed = new URL(/^www\./i.test(url) ? "https://" + url : url);
        if ((parsed.protocol === "http:" || parsed.protocol === "https:") && /[^.]\.[^.]|^localhost$/i.test(parsed.hostname)) {
          href = parsed.href;
        }
      } catch (e) { href = null; }
      LINK_RE.lastIndex = start + Math.max(1, url.length);
      if (href) found.push({ start: start, end: start + url.length, text: url, href: href });
    }
    return found;
  }

  function appendText(parent, text) {
    text = String(text == null ? "" : text);
    var last = 0;
    findLinks(text).forEach(function (link) {
      if (link.start > last) parent.appendChild(document.createTextNode(text.slice(last, link.start)));
      var a = document.createElement("a");
      a.href = link.href;
      a.target = "_blank";
      a.rel = "noopener noreferrer nofollow";
      a.textContent = link.text;
      parent.appendChild(a);
      last = link.end;
    });
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
    return parent;
  }

  function strings(containerId) {
    var found = {};
    var container = document.getElementById(containerId);
    if (!container) return found;
    container.querySelectorAll("script[type='application/json']").forEach(function (node) {
      try { found[node.id.slice(node.id.lastIndexOf("-") + 1)] = JSON.parse(node.textContent); } catch (e) { /* keep going */ }
    });
    return found;
  }

  function format(template, params) {
    return String(template == null ? "" : template).replace(/\{(\w+)\}/g, function (match, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : match;
    });
  }

  return { h: h, appendText: appendText, findLinks: findLinks, strings: strings, format: format };
})();
