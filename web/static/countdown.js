/*
 * Conforme: live countdowns (progressive enhancement, no dependency).
 * <span data-countdown-to="2026-07-01T00:00:00+02:00"
 *       data-countdown-now="2026-06-28T19:47:51+02:00">3 j 04 h 12 min 09 s</span>
 * The server renders the text; this script keeps it ticking. "now" is the
 * server's clock (which may be simulated): the offset to the browser's clock is
 * measured once at load.
 */
(function () {
  "use strict";

  var loadedAt = Date.now();

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function format(ms) {
    var s = Math.floor(ms / 1000);
    var days = Math.floor(s / 86400);
    var hours = Math.floor(s / 3600) % 24;
    var minutes = Math.floor(s / 60) % 60;
    // Leading units that are zero are left out: "41 s", "3 min 05 s", "2 j 04 h 00 min 09 s".
    if (days > 0) return days + " j " + pad(hours) + " h " + pad(minutes) + " min " + pad(s % 60) + " s";
    if (hours > 0) return hours + " h " + pad(minutes) + " min " + pad(s % 60) + " s";
    if (minutes > 0) return minutes + " min " + pad(s % 60) + " s";
    return (s % 60) + " s";
  }

  function start(el) {
    var target = Date.parse(el.getAttribute("data-countdown-to"));
    var serverNow = Date.parse(el.getAttribute("data-countdown-now"));
    if (isNaN(target) || isNaN(serverNow)) return;
    var offset = serverNow - loadedAt;
    var timer = null;

    function tick() {
      var left = target - (Date.now() + offset);
      if (left <= 0) {
        el.textContent = "échéance atteinte";
        if (timer !== null) clearInterval(timer);
        return false;
      }
      el.textContent = format(left);
      return true;
    }

    if (tick()) timer = setInterval(tick, 1000);
  }

  function init() {
    var els = document.querySelectorAll("[data-countdown-to][data-countdown-now]");
    for (var i = 0; i < els.length; i++) start(els[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
