/* Ruang Tanya dashboard: FAQ entries suggested for the patron's latest messages in the open
 * chat, with "Insert link" / "Insert answer" into the reply box (widgets/faq-suggest.js, shared with
 * the widget), from the FAQ of the open chat's library. It reads the rendered messages and never
 * touches the socket. */
(function (app) {
  "use strict";
  if (!app || !window.RuangTanyaFAQ) return;
  window.RuangTanyaFAQ.suggest({
    messages: app.el.messages,
    composer: app.el.input,
    form: app.el.composer,
    // The open chat: its library's FAQ answers (a chat covered for another library, that library's).
    conversation: function () { return app.state.activeId; }
  });
})(window.RuangTanyaDashboard);
