/* Ruang Tanya widget: after the chat, a rating (1–5, optional comment) and "email me this
 * transcript" (docs/protocol.md, `rate` and `transcript.email`). Shown once a live chat has ended,
 * whoever closed it; a question left offline is answered by email anyway. */
(window.RuangTanyaPlugins = window.RuangTanyaPlugins || []).push(function (chat) {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var S = window.RuangTanyaDOM.strings("after-chat-strings"); // translated by the template (json_script)
  var box = $("after-chat"), rateForm = $("rate-form"), comment = $("rate-comment"), rateStatus = $("rate-status");
  var mailForm = $("transcript-form"), address = $("transcript-email"), mailStatus = $("transcript-status");
  var shownFor = null; // the conversation the forms were last filled for

  function radios() { return rateForm.querySelectorAll("input[name=rating]"); }
  function chosen() {
    var value = 0;
    radios().forEach(function (r) { if (r.checked) value = Number(r.value); });
    return value;
  }
  function paintStars() {
    var value = chosen();
    radios().forEach(function (r) {
      var on = Number(r.value) <= value, star = r.nextElementSibling;
      star.classList.toggle("on", on);
      star.firstChild.textContent = on ? "★" : "☆"; // filled or not: not told by colour alone
    });
  }
  function say(node, text, failed) {
    node.textContent = text;
    node.classList.toggle("failed", !!failed);
  }

  /* A new ended conversation: fresh forms, the rating given before (after a reload) and the email
     address the patron typed in the question form. */
  function reset(conversation) {
    shownFor = conversation.id;
    var given = conversation.rating;
    radios().forEach(function (r) { r.checked = !!given && Number(r.value) === given.rating; });
    comment.value = given ? given.comment || "" : "";
    say(rateStatus, "");
    say(mailStatus, "");
    address.value = address.value || ($("email") && $("email").value) || "";
    paintStars();
  }

  rateForm.addEventListener("change", paintStars);
  rateForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var conversation = chat.conversation();
    if (!conversation) return;
    if (!chosen()) return say(rateStatus, S.pick, true);
    var sent = chat.send({ type: "rate", conversation: conversation.id, rating: chosen(), comment: comment.value.trim() });
    say(rateStatus, sent ? S.sending : S.offline, !sent);
  });
  mailForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var conversation = chat.conversation();
    if (!conversation) return;
    address.value = address.value.trim();
    if (!address.value || !address.checkValidity()) { address.focus(); return say(mailStatus, S.badEmail, true); }
    var sent = chat.send({ type: "transcript.email", conversation: conversation.id, email: address.value });
    say(mailStatus, sent ? S.sending : S.offline, !sent);
  });

  return {
    frame: function (f) {
      if (f.type === "rated") { say(rateStatus, S.rated); return true; }
      if (f.type === "transcript.sent") { say(mailStatus, String(S.sent).replace("{email}", f.email)); return true; }
      if (f.type === "error" && f.ref === "rate") { say(rateStatus, f.message, true); return true; }
      if (f.type === "error" && f.ref === "transcript.email") { say(mailStatus, f.message, true); return true; }
      return false;
    },
    render: function (conversation) {
      var show = !!conversation && conversation.status === "closed" && !conversation.offline;
      box.hidden = !show;
      if (show && shownFor !== conversation.id) reset(conversation);
    }
  };
});
