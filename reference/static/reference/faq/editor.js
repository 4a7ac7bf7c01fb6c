/* The staff FAQ editor (templates/faq/edit.html): a small Markdown toolbar over the answer and a
   live preview. The preview is rendered by the server (POST staff/faq/preview) through the same
   render and sanitize path as a save, so it shows exactly what the public page will. */
(function () {
  "use strict";

  var textarea = document.getElementById("f-answer");
  var toolbar = document.getElementById("answer-toolbar");
  var preview = document.getElementById("answer-preview");
  var status = document.getElementById("preview-status");
  if (!textarea || !toolbar || !preview) return;
  var token = textarea.form.querySelector("input[name=csrfmiddlewaretoken]").value;

  // The selection wrapped in `before`/`after` (or the placeholder, selected for typing over).
  function wrap(before, after, placeholder) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    var chosen = textarea.value.slice(start, end) || placeholder;
    textarea.setRangeText(before + chosen + after, start, end, "end");
    textarea.setSelectionRange(start + before.length, start + before.length + chosen.length);
  }

  // Every line the selection touches starts with prefix(lineIndex); an empty line gets the placeholder.
  function prefixLines(prefix, placeholder) {
    var value = textarea.value, start = textarea.selectionStart, end = textarea.selectionEnd;
    var lineStart = value.lastIndexOf("\n", start - 1) + 1;
    var lineEnd = value.indexOf("\n", end);
    if (lineEnd === -1) lineEnd = value.length;
    var lines = value.slice(lineStart, lineEnd).split("\n").map(function (line, i) {
      return prefix(i) + (line || placeholder || "");
    });
    textarea.setRangeText(lines.join("\n"), lineStart, lineEnd, "end");
  }

  // A link: the selected text (or a placeholder) as its text, and "https://" selected to type over.
  function link(placeholder) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    var text = textarea.value.slice(start, end) || placeholder;
    textarea.setRangeText("[" + text + "](https://)", start, end, "end");
    var urlStart = start + text.length + 3;
    textarea.setSelectionRange(urlStart, urlStart + "https://".length);
  }

  var FORMATS = {
    bold: function (p) { wrap("**", "**", p); },
    italic: function (p) { wrap("*", "*", p); },
    link: link,
    bullets: function () { prefixLines(function () { return "- "; }); },
    numbers: function () { prefixLines(function (i) { return (i + 1) + ". "; }); },
    heading: function (p) { prefixLines(function () { return "## "; }, p); }
  };

  function apply(name, placeholder) {
    textarea.focus();
    FORMATS[name](placeholder || "");
    schedulePreview();
  }

  toolbar.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-md]");
    if (button) apply(button.dataset.md, button.dataset.placeholder);
  });

  textarea.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    var name = { b: "bold", i: "italic" }[event.key.toLowerCase()];
    if (!name) return;
    event.preventDefault();
    apply(name, toolbar.querySelector("[data-md=" + name + "]").dataset.placeholder);
  });

  var timer = null, sent = 0;

  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(refreshPreview, 300);
  }

  function refreshPreview() {
    var mine = ++sent;
    fetch(textarea.dataset.previewUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token },
      body: new URLSearchParams({ source: textarea.value })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (mine !== sent) return;  // a newer preview is on its way
      if (result.ok) {
        preview.innerHTML = result.body.html;  // sanitized by the server, as on the public page
        status.textContent = "";
      } else {
        status.textContent = result.body.error || status.dataset.failed;
      }
    }).catch(function () {
      if (mine === sent) status.textContent = status.dataset.failed;
    });
  }

  textarea.addEventListener("input", schedulePreview);
  toolbar.hidden = false;
})();
