// Draws every chart of the page from its JSON block (no inline code: the CSP allows none).
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Chart === "undefined") { return; }
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) { return; }
    var box = canvas.parentElement;
    box.style.height = (box.dataset.height || 280) + "px";
    var chart = new Chart(canvas, JSON.parse(source.textContent));
    canvas.dataset.drawn = "true";
    canvas.chart = chart;
  });
});
