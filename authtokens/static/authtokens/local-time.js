// Show every <time data-local> in the reader's own time zone: the server renders UTC with a
// "UTC" label, which stays as it is without JavaScript. The absolute time goes in the title
// (on hover); "relative" times ("5 minutes ago") keep their text.
(function () {
  "use strict";
  var lang = document.documentElement.lang || undefined;
  var absolute = { dateStyle: "medium", timeStyle: "short" };
  var withZone = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  function show(element) {
    var when = new Date(element.getAttribute("datetime"));
    if (isNaN(when.getTime())) return;
    var full = when.toLocaleString(lang, withZone);
    element.title = full;
    if (element.getAttribute("data-local") !== "relative") {
      element.textContent = full;
    }
    element.setAttribute("data-localized", when.toLocaleString(lang, absolute));
  }
  function run() {
    Array.prototype.forEach.call(document.querySelectorAll("time[data-local]"), show);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
