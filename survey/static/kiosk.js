// Kiosk tablets: return to a blank form after a period without any touch or key press.
// Without JavaScript the page falls back to a plain <meta> refresh (see page.html).
(function () {
  var script = document.currentScript;
  var url = script.getAttribute("data-reset-url");
  var idle = parseInt(script.getAttribute("data-idle"), 10) * 1000;
  var timer;
  function arm() {
    clearTimeout(timer);
    timer = setTimeout(function () { window.location.href = url; }, idle);
  }
  ["input", "change", "click", "keydown", "touchstart", "scroll"].forEach(function (name) {
    document.addEventListener(name, arm, { passive: true });
  });
  arm();
})();
