/* The top bar's language menu: choosing a language sends its form (no inline handler: the
 * Content-Security-Policy allows scripts from our files only). Without JavaScript its button does. */
(function () {
  "use strict";
  function ready() {
    var select = document.getElementById("lang-select");
    if (select) select.addEventListener("change", function () { select.form.submit(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
