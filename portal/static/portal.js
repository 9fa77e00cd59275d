// Small behaviours every page shares, here because the portal's policy
// allows no inline script: a select marked data-submit-on-change submits its
// form when changed with the mouse, or with Enter or on leaving it after
// the arrow keys (an arrow key only moves through the options); a form marked
// data-reset-after-request is cleared once htmx has sent it; a table that
// scrolls sideways (on a phone) can be focused to scroll it from the keyboard.
(function () {
  "use strict";
  var NAVIGATION = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"];
  function submitting(el) {
    return el && el.matches && el.matches("select[data-submit-on-change]") && el.form;
  }
  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (!submitting(el)) return;
    if (NAVIGATION.indexOf(e.key) >= 0) {
      el.dataset.keyed = "1";
    } else if (e.key === "Enter" && el.dataset.keyed) {
      e.preventDefault();
      delete el.dataset.keyed;
      el.form.submit();
    }
  });
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (submitting(el) && !el.dataset.keyed) {
      el.form.submit();
    }
  });
  document.addEventListener("focusout", function (e) {
    var el = e.target;
    if (submitting(el) && el.dataset.keyed) {
      delete el.dataset.keyed;
      el.form.submit();
    }
  });
  function focusableScrollers() {
    document.querySelectorAll("table, .scroll, pre").forEach(function (t) {
      if (t.scrollWidth > t.clientWidth + 1 && !t.hasAttribute("tabindex")) {
        t.tabIndex = 0;
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusableScrollers);
  } else {
    focusableScrollers();
  }
  window.addEventListener("resize", focusableScrollers);
  // The header's search results: ArrowDown from the box to the first
  // result, arrows between them, Escape back to the box and closed.
  document.addEventListener("keydown", function (e) {
    var form = e.target && e.target.closest && e.target.closest("#search");
    if (!form) return;
    var box = form.querySelector("input[name=q]");
    var hits = Array.prototype.slice.call(form.querySelectorAll(".search-hit"));
    var at = hits.indexOf(e.target);
    if (e.key === "ArrowDown" && hits.length) {
      e.preventDefault();
      hits[Math.min(at + 1, hits.length - 1)].focus();
    } else if (e.key === "ArrowUp" && at >= 0) {
      e.preventDefault();
      if (at === 0) box.focus(); else hits[at - 1].focus();
    } else if (e.key === "Escape") {
      form.querySelector("#search-results").innerHTML = "";
      box.focus();
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail && e.detail.elt;
    if (form && form.hasAttribute && form.hasAttribute("data-reset-after-request")) {
      form.reset();
    }
  });
})();
