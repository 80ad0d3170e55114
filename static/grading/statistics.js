// Draws the charts whose Plotly figures the page carries as JSON (built on the server).
(() => {
  const draw = () => {
    for (const target of document.querySelectorAll("[data-plotly-figure]")) {
      const source = document.getElementById(target.dataset.plotlyFigure);
      if (!source || !window.Plotly) continue;
      const figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(target, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false,
        modeBarButtonsToRemove: ["select2d", "lasso2d"],
      });
    }
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
