/* Ruang Tanya widget: files in the chat (docs/protocol.md, Attachments).
 *
 * A chosen file is uploaded over HTTP first (POST /widget/attachments/, with the patron token);
 * the answer's attachment id then goes out in an ordinary `message` frame through chat.js's outbox,
 * so it is "sending…" until acknowledged and re-sent after a reconnect like any message.
 * Images are shown inline (alt text = file name), PDFs as a card with name and size. */
(window.RuangTanyaPlugins = window.RuangTanyaPlugins || []).push(function (chat) {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var S = window.RuangTanyaDOM.strings("attach-strings"); // translated by the template (json_script)
  var input = $("attach-input"), button = $("attach"), log = $("log");
  var LANG = document.documentElement.lang || "";

  function fill(text, name, value) { return String(text || "").replace("{" + name + "}", function () { return value; }); }
  var F = window.RuangTanyaFiles, el = F.el, link = F.link;

  function render(file) { return F.render(file, S.open); }

  /* Shown links are renewed before they expire with a `fetch` of their messages, whose answer
     carries fresh ones (see `stored`). */
  function renewLinks() {
    var conversation = chat.conversation(), first = 0, last = 0, soon = Date.now() + 90000;
    if (!conversation || document.hidden) return;
    log.querySelectorAll("a.attachment[data-expires]").forEach(function (a) {
      var seq = Number(a.closest("li").dataset.seq);
      if (Number(a.dataset.expires) > soon || !seq) return;
      first = first ? Math.min(first, seq) : seq;
      last = Math.max(last, seq);
    });
    if (first) chat.send({ type: "fetch", conversation: conversation.id, after: first - 1, before: last + 1 });
  }
  setInterval(renewLinks, 30000);
  document.addEventListener("visibilitychange", renewLinks);

  function refuse(text) { chat.showAlert(text); }

  function upload(file, conversation) {
    var row = el("li", "msg msg-patron pending uploading");
    var bubble = el("div", "bubble");
    bubble.appendChild(render({ name: file.name, size: file.size, type: file.type }));
    var bar = el("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", fill(S.uploading, "name", file.name));
    bubble.appendChild(bar);
    row.appendChild(bubble);
    row.appendChild(el("p", "msg-meta", fill(S.uploading, "name", file.name)));
    log.appendChild(row);
    chat.toBottom();

    var body = new FormData();
    body.append("conversation", String(conversation.id));
    body.append("lang", LANG);
    body.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/widget/attachments/");
    xhr.setRequestHeader("Authorization", "Bearer " + chat.token());
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
    xhr.onload = function () {
      row.remove();
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status !== 201 || !answer || !answer.attachment) return refuse(answer && answer.message || S.failed);
      var a = answer.attachment;
      chat.enqueue({ type: "message", client_id: chat.uid(), text: "", attachment: a.id,
        file: { name: a.name, size: a.size, type: a.type } });
    };
    xhr.onerror = function () { row.remove(); refuse(S.failed); };
    xhr.send(body);
  }

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    input.value = "";
    var conversation = chat.conversation();
    if (!file || !conversation || conversation.status === "closed") return;
    chat.hideAlert();
    if (!file.size) return refuse(S.empty);
    if (S.maxBytes && file.size > S.maxBytes) return refuse(S.tooLarge);
    // The server checks the content; this only spares a slow upload of something plainly refused.
    if (file.type && !/^(image\/(jpeg|png|gif|webp)|application\/pdf)$/.test(file.type)) return refuse(S.type);
    upload(file, conversation);
  });

  return {
    message: function (bubble, m) {
      if (m.attachment) bubble.appendChild(render(m.attachment));
    },
    /* A message shown before comes again: our own file, shown from the outbox while sending, gets
       its link; a shown link gets the fresh one (the image itself stays as it is). */
    stored: function (li, m) {
      var shown = li.querySelector(".attachment");
      if (!m.attachment || !shown) return;
      if (shown.href) link(shown, m.attachment);
      else shown.replaceWith(render(m.attachment));
    },
    render: function (conversation) {
      // A file needs a conversation to go into (the question comes first) that is still open.
      var usable = !!conversation && conversation.status !== "closed" && typeof conversation.id === "number";
      button.hidden = input.hidden = !usable;
    }
  };
});
