/* Ruang Tanya dashboard: FAQ entries suggested for the patron's latest messages in the open
 * chat, with "Insert link" / "Insert answer" into the reply box (widgets/faq-suggest.js, shared with
 * the widget). It reads the rendered messages and never touches the socket. */
(function (app) {
  "use strict";
  if (!app || !window.RuangTanyaFAQ) return;
  window.RuangTanyaFAQ.suggest({
    messages: app.el.messages,
    composer: app.el.input,
    form: app.el.composer
  });
})(window.RuangTanyaDashboard);
