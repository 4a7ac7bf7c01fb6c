/* Ruang Tanya dashboard: files in chats (docs/protocol.md, Attachments).
 *
 * The librarian picks a file; it is uploaded to /staff/attachments/ (session + CSRF token) into the
 * open chat, then sent as a `message` with the attachment id through dashboard.js's outbox, so it is
 * "sending…" until acknowledged and re-sent after a reconnect. Images show inline, PDFs as a card. */
(window.RuangTanyaDashboardPlugins = window.RuangTanyaDashboardPlugins || []).push(function (dash) {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var S = window.RuangTanyaDOM.strings("dash-attach-strings"); // translated by the template (json_script)
  var input = $("dash-attach-input"), progress = $("dash-attach-progress");

  var F = window.RuangTanyaFiles, link = F.link;
  function render(file) { return F.render(file, S.open); }

  /* Shown links are renewed before they expire with a `fetch` of their messages, whose answer
     carries fresh ones (see `stored`). */
  function renewLinks() {
    var conv = dash.activeConversation(), seqs = [], soon = Date.now() + 90000;
    if (!conv || document.hidden) return;
    conv.messages.forEach(function (m) {
      var shown = m.attachment && document.querySelector("a.attachment[data-id='" + m.attachment.id + "']");
      if (shown && Number(shown.dataset.expires) <= soon) seqs.push(m.seq);
    });
    if (seqs.length) dash.fetch(conv, Math.min.apply(null, seqs) - 1, Math.max.apply(null, seqs) + 1);
  }
  setInterval(renewLinks, 30000);
  document.addEventListener("visibilitychange", renewLinks);

  function upload(file, conv) {
    var body = new FormData();
    body.append("conversation", String(conv.id));
    body.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/staff/attachments/");
    xhr.setRequestHeader("X-CSRFToken", $("dash-attach-csrf").textContent);
    progress.value = 0;
    progress.hidden = false;
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) progress.value = Math.round(100 * e.loaded / e.total); };
    xhr.onload = function () {
      progress.hidden = true;
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status !== 201 || !answer || !answer.attachment) return dash.showAlert(answer && answer.message || S.failed);
      var a = answer.attachment;
      dash.queueMessage(conv, "", { attachment: a.id, file: { name: a.name, size: a.size, type: a.type } });
    };
    xhr.onerror = function () { progress.hidden = true; dash.showAlert(S.failed); };
    xhr.send(body);
  }

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    input.value = "";
    var conv = dash.activeConversation();
    if (!file || !conv || conv.status !== "active") return;
    dash.clearAlert();
    if (!file.size) return dash.showAlert(S.empty);
    if (S.maxBytes && file.size > S.maxBytes) return dash.showAlert(S.tooLarge);
    if (file.type && !/^(image\/(jpeg|png|gif|webp)|application\/pdf)$/.test(file.type)) return dash.showAlert(S.type);
    upload(file, conv);
  });

  return {
    message: function (body, file) {
      if (file) body.appendChild(render(file));
    },
    /* A message we hold came again (a renewal fetch): its shown link takes the fresh url. */
    stored: function (m, held) {
      if (!m.attachment) return;
      held.attachment = m.attachment; // a later rebuild of the message uses the fresh link too
      document.querySelectorAll("a.attachment[data-id='" + m.attachment.id + "']").forEach(function (a) {
        link(a, m.attachment);
      });
    }
  };
});
