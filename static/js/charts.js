// Live graphs: each canvas with data-source and data-series draws that
// series of the JSON's "points", refreshed every 5 s.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const canvases = document.querySelectorAll('canvas[data-source]');
  if (!canvases.length || typeof Chart === 'undefined') return;
  const charts = [];
  canvases.forEach((c) => {
    charts.push({
      source: c.dataset.source,
      series: c.dataset.series,
      chart: new Chart(c, {
        type: 'line',
        data: { labels: [], datasets: [{ data: [], borderWidth: 2, pointRadius: 0, fill: true }] },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true } },
        },
      }),
    });
  });
  const refresh = () => {
    const sources = [...new Set(charts.map((c) => c.source))];
    sources.forEach((src) => {
      fetch(src, { headers: { 'X-Requested-With': 'poll' }, credentials: 'same-origin' })
        .then((res) => (res.ok ? res.json() : null))
        .then((data) => {
          if (!data || !data.points) return;
          charts.filter((c) => c.source === src).forEach((c) => {
            c.chart.data.labels = data.points.map((p) => new Date(p.t).toLocaleTimeString());
            c.chart.data.datasets[0].data = data.points.map((p) => p[c.series]);
            c.chart.update();
          });
        })
        .catch(() => {});
    });
  };
  refresh();
  window.setInterval(refresh, 5000);
});
