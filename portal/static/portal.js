// Small behaviours every page shares, here because the portal's policy
// allows no inline script: a select marked data-submit-on-change submits its
// form when changed; a form marked data-reset-after-request is cleared once
// htmx has sent it.
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.matches && el.matches("[data-submit-on-change]") && el.form) {
      el.form.submit();
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail && e.detail.elt;
    if (form && form.hasAttribute && form.hasAttribute("data-reset-after-request")) {
      form.reset();
    }
  });
})();
