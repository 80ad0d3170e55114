// Draws the latency simulator's charts from the figure JSON the server puts in the page, and
// redraws them whenever htmx swaps in new results.
(() => {
  // The script tag sits inside the calculator, so an htmx history restore can run it again.
  if (window.criticalPathSimulator) return;
  window.criticalPathSimulator = true;

  const config = { responsive: true, displaylogo: false, displayModeBar: false };

  function draw(root) {
    if (typeof Plotly === "undefined") return; // the data tables still carry every number
    root.querySelectorAll("[data-figure]").forEach((chart) => {
      const source = document.getElementById(chart.dataset.figure);
      if (!source) return;
      const figure = JSON.parse(source.textContent);
      Plotly.react(chart, figure.data, figure.layout, config);
    });
  }

  // Error messages arrive in slots next to each input without the input being replaced, so
  // the input's own invalid state is brought in line here.
  function markInvalid(form) {
    form.querySelectorAll("input[id^='id_']").forEach((input) => {
      const slot = document.getElementById(`${input.id}_error`);
      if (!slot) return;
      const invalid = slot.textContent.trim() !== "";
      input.classList.toggle("is-invalid", invalid);
      if (invalid) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  }

  document.addEventListener("DOMContentLoaded", () => draw(document));

  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (typeof Plotly === "undefined" || !target) return;
    target.querySelectorAll(".js-plotly-plot").forEach((chart) => Plotly.purge(chart));
  });

  document.addEventListener("htmx:load", (event) => {
    if (event.detail.elt === document.body) return; // drawn on DOMContentLoaded already
    draw(event.detail.elt);
  });

  document.addEventListener("htmx:historyRestore", () => draw(document));

  document.addEventListener("htmx:afterSettle", () => {
    const form = document.getElementById("simulator-form");
    if (form) markInvalid(form);
  });
})();
