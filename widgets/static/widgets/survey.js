/* Ruang Tanya widget: the site's survey questions after a chat (docs/protocol.md, `survey`), under
 * the rating. The questions are rendered by the panel's template in the patron's language
 * (templates/reference/_survey_questions.html); every one is optional, and sending again replaces
 * the earlier answers. Shown with the rating: once a live chat has ended. */
(window.RuangTanyaPlugins = window.RuangTanyaPlugins || []).push(function (chat) {
  "use strict";

  var form = document.getElementById("survey-form");
  if (!form) return null; // the site asks no questions
  var S = window.RuangTanyaDOM.strings("after-chat-strings"); // translated by the template (json_script)
  var status = document.getElementById("survey-status");
  var shownFor = null; // the conversation the form was last cleared for

  function questions() { return Array.prototype.slice.call(form.querySelectorAll("[data-question]")); }
  /* The answer given to one question, or null: a choice, a number 1–5, or the text typed. */
  function answerOf(box) {
    if (box.getAttribute("data-kind") === "text") return box.querySelector("textarea").value.trim() || null;
    var checked = box.querySelector("input:checked");
    if (!checked) return null;
    return box.getAttribute("data-kind") === "scale" ? Number(checked.value) : checked.value;
  }
  function say(text, failed) {
    status.textContent = text;
    status.classList.toggle("failed", !!failed);
  }
  /* Points at the question an error names (`field`: survey-<id>) and puts the focus in it. */
  function mark(field) {
    questions().forEach(function (box) {
      var named = box.id === field;
      box.classList.toggle("invalid", named);
      if (named) box.querySelector("input, textarea").focus();
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var conversation = chat.conversation();
    if (!conversation) return;
    var answers = [];
    questions().forEach(function (box) {
      var answer = answerOf(box);
      if (answer !== null) answers.push({ question: Number(box.getAttribute("data-question")), answer: answer });
    });
    mark(null);
    if (!answers.length) return say(S.surveyEmpty, true);
    var sent = chat.send({ type: "survey", conversation: conversation.id, answers: answers });
    say(sent ? S.sending : S.offline, !sent);
  });

  return {
    frame: function (f) {
      if (f.type === "survey.answered") { say(S.surveyThanks); return true; }
      if (f.type === "error" && f.ref === "survey") { say(f.message, true); mark(f.field); return true; }
      return false;
    },
    render: function (conversation) {
      var show = !!conversation && conversation.status === "closed" && !conversation.offline;
      if (show && shownFor !== conversation.id) {
        shownFor = conversation.id;
        form.reset();
        say("");
        mark(null);
      }
    }
  };
});
