/* CREW dashboard: select-all in the queue, the language switch, and the live feed
   (Server-Sent Events from /v1/stream/alerts, `event: warning` with JSON data). */
(function () {
  "use strict";

  function selectAll() {
    var all = document.getElementById("select-all");
    if (!all) { return; }
    all.addEventListener("change", function () {
      var boxes = document.querySelectorAll("#bulk input[name=id]");
      for (var i = 0; i < boxes.length; i += 1) { boxes[i].checked = all.checked; }
    });
  }

  function assigneeChoice() {
    var action = document.getElementById("bulk-action");
    var assignee = document.getElementById("bulk-assignee");
    if (!action || !assignee) { return; }
    var sync = function () { assignee.hidden = action.value !== "assign"; };
    action.addEventListener("change", sync);
    sync();
  }

  function languageSwitch() {
    // The links work without script; with it, the choice also survives form posts at once.
    var links = document.querySelectorAll("#lang-switch a[data-lang]");
    for (var i = 0; i < links.length; i += 1) {
      links[i].addEventListener("click", function (event) {
        document.cookie = "lang=" + event.currentTarget.getAttribute("data-lang") +
          "; path=/; max-age=31536000; samesite=lax";
      });
    }
  }

  function text(tag, value, cls) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (cls) { node.className = cls; }
    return node;
  }

  function liveFeed() {
    var feed = document.getElementById("live-feed");
    if (!feed) { return; }
    var status = document.getElementById("live-status");
    var list = document.getElementById("live-list");
    var url = feed.getAttribute("data-stream");
    // The page names the stream only when the server has it: no request, no error otherwise.
    if (!url || !window.EventSource) { status.textContent = feed.getAttribute("data-off"); return; }
    var labels = JSON.parse(document.getElementById("labels").textContent);
    var source = new EventSource(url);
    var first = true;
    source.addEventListener("open", function () { status.textContent = feed.getAttribute("data-on"); });
    source.addEventListener("warning", function (event) {
      var w;
      try { w = JSON.parse(event.data); } catch (err) { return; }
      if (first) { list.textContent = ""; first = false; }
      var item = document.createElement("li");
      var level = w.level || "none";
      item.appendChild(text("span", labels.level[level] || level, "badge level-" + level));
      item.appendChild(document.createTextNode(" " + (labels.risk[w.risk_type] || w.risk_type || "") + " · "));
      var subject = w.customer_id || w.segment || "";
      if (w.customer_id) {
        var link = text("a", subject);
        link.href = "/customers/" + encodeURIComponent(w.customer_id);
        item.appendChild(link);
      } else {
        item.appendChild(document.createTextNode(subject));
      }
      item.appendChild(text("span", " " + (w.at || w.last_seen || w.first_seen || "").slice(0, 16).replace("T", " "), "muted"));
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 50) { list.removeChild(list.lastChild); }
    });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        status.textContent = feed.getAttribute("data-off");
      } else {
        status.textContent = feed.getAttribute("data-retry");
      }
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    selectAll();
    assigneeChoice();
    languageSwitch();
    liveFeed();
  });
}());
