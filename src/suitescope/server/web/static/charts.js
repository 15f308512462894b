// Draws every <div class="chart" data-chart="NAME"> from the page's chart data (columns: x, then one per series),
// with the project's annotations as vertical lines. No data from the page is ever inserted as HTML.
(function () {
  var holder = document.getElementById("chart-data");
  if (!holder) { return; }
  var data = JSON.parse(holder.textContent);
  var colours = ["#1a7f37", "#cf222e", "#bc4c00", "#0969da", "#8250df"];
  function annotations(notes) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "#8250df";
          ctx.fillStyle = "#8250df";
          ctx.font = "11px system-ui";
          notes.forEach(function (note) {
            var x = Math.round(u.valToPos(note.x, "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) { return; }
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(String(note.label), x + 3, u.bbox.top + 12);
          });
          ctx.restore();
        }]
      }
    };
  }
  document.querySelectorAll(".chart").forEach(function (el) {
    var columns = data[el.dataset.chart];
    if (!columns || columns[0].length === 0) { el.textContent = "No runs in this range."; return; }
    var names = el.dataset.series.split(",");
    var series = [{}].concat(names.map(function (name, i) {
      return { label: name, stroke: colours[i % colours.length], width: 2 };
    }));
    var opts = { width: el.clientWidth || 360, height: 220, series: series, plugins: [annotations(data.annotations || [])] };
    if (el.dataset.time === "false") { opts.scales = { x: { time: false } }; }
    new uPlot(opts, columns, el);
  });
})();
