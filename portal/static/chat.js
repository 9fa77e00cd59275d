// Web chat: follows an answer's server-sent events — the tools being
// called, the words as they arrive, then the finished reply (with its
// buttons), which replaces the placeholder.
(function () {
  "use strict";
  function follow(el) {
    var url = el.getAttribute("data-stream");
    el.removeAttribute("data-stream");
    var status = el.querySelector(".reply-status");
    var text = el.querySelector(".reply-text");
    var source = new EventSource(url);
    source.addEventListener("tool", function (e) {
      status.textContent = "Looking up " + e.data.replace(/_/g, " ") + "…";
    });
    source.addEventListener("delta", function (e) {
      status.textContent = "";
      text.textContent += e.data;
    });
    source.addEventListener("reply", function (e) {
      source.close();
      var holder = document.createElement("div");
      holder.innerHTML = e.data;
      var reply = holder.firstElementChild;
      el.replaceWith(reply);
      htmx.process(reply);
      reply.scrollIntoView({ block: "nearest" });
    });
    source.onerror = function () {
      source.close();
      if (el.isConnected) {
        status.textContent = "The answer could not be streamed; reload the page to see it.";
      }
    };
  }
  htmx.onLoad(function (root) {
    var found = root.querySelectorAll ? Array.prototype.slice.call(root.querySelectorAll("[data-stream]")) : [];
    if (root.matches && root.matches("[data-stream]")) {
      found.push(root);
    }
    found.forEach(follow);
  });
})();
