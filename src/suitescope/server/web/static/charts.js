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
  // Stacked: each series drawn as bars of its running total (tallest first), the legend showing its own value.
  function stack(columns) {
    var totals = [columns[0]];
    for (var s = 1; s < columns.length; s++) {
      totals.push(columns[s].map(function (v, i) { return v + (s > 1 ? totals[s - 1][i] : 0); }));
    }
    return totals;
  }
  document.querySelectorAll(".chart").forEach(function (el) {
    var columns = data[el.dataset.chart];
    if (!columns || columns[0].length === 0) { el.textContent = "No runs in this range."; return; }
    var names = el.dataset.series.split(",");
    var stacked = el.dataset.stacked === "true";
    var band = el.dataset.band ? el.dataset.band.split(",").map(Number) : null;
    var series = [{}].concat(names.map(function (name, i) {
      var one = { label: name, stroke: colours[i % colours.length], width: 2 };
      if (stacked) {
        one.fill = colours[i % colours.length];
        one.paths = uPlot.paths.bars({ size: [0.6, 40] });
        one.points = { show: false };
        one.value = function (u, v, si, idx) { return idx == null ? "--" : columns[si][idx]; };
      }
      if (band && band.indexOf(i + 1) >= 0) { one.stroke = "#8c959f"; one.dash = [4, 4]; one.width = 1; one.points = { show: false }; }
      return one;
    }));
    var opts = { width: el.clientWidth || 360, height: 220, series: series, plugins: [annotations(data.annotations || [])] };
    if (el.dataset.time === "false") {
      opts.scales = { x: { time: false } };
      opts.axes = [{ incrs: [1, 2, 5, 10, 20, 50, 100] }, {}];
    }
    if (band) { opts.bands = [{ series: band, fill: "rgba(9, 105, 218, 0.08)" }]; }
    var drawn = columns;
    if (stacked) {
      var totals = stack(columns);
      // Drawn from the top of the stack down, so each shorter bar covers the lower part of the one before.
      drawn = [totals[0]].concat(totals.slice(1).reverse());
      opts.series = [series[0]].concat(series.slice(1).reverse());
      columns = [columns[0]].concat(columns.slice(1).reverse());
    }
    new uPlot(opts, drawn, el);
  });
})();
