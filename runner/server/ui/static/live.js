// Live updates as progressive enhancement: a region carrying data-live-src is re-fetched from the server
// and swapped in place until the server sends one without it (the run finished). A finished run page is
// then reloaded once, because its plan and summary are only recorded at the end.
(function () {
  "use strict";
  var PERIOD_MS = 1000;

  function schedule(region, delay) {
    window.setTimeout(function () { refresh(region); }, delay);
  }

  function refresh(region) {
    fetch(region.getAttribute("data-live-src"), { headers: { Accept: "text/html" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        var fresh = holder.content.firstElementChild;
        if (!fresh) { return; }
        region.replaceWith(fresh);
        if (fresh.hasAttribute("data-live-src")) {
          schedule(fresh, PERIOD_MS);
        } else if (fresh.getAttribute("data-live-done") === "reload") {
          window.location.reload();
        }
      })
      .catch(function () { schedule(region, PERIOD_MS * 3); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-src]").forEach(function (region) { schedule(region, PERIOD_MS); });
  });
})();
