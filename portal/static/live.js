// Live notifications: the list follows its server-sent events stream and
// puts each new notification (rendered by the server) at the top.
(function () {
  "use strict";
  var list = document.querySelector("[data-live]");
  if (!list) {
    return;
  }
  var source = new EventSource(list.getAttribute("data-live"));
  source.addEventListener("notification", function (e) {
    var holder = document.createElement("ul");
    holder.innerHTML = e.data;
    var item = holder.firstElementChild;
    // Read from the log again, or already listed when the page was made.
    var id = item.getAttribute("data-event");
    if (id && list.querySelector('[data-event="' + id + '"]')) {
      return;
    }
    var empty = list.querySelector(".empty");
    if (empty) {
      empty.remove();
    }
    item.classList.add("new");
    list.insertBefore(item, list.firstChild);
  });
})();
