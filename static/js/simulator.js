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
    form.querySelectorAll("input[id^='id_'], select[id^='id_']").forEach((input) => {
      const slot = document.getElementById(`${input.id}_error`);
      if (!slot) return;
      const invalid = slot.textContent.trim() !== "";
      input.classList.toggle("is-invalid", invalid);
      if (invalid) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  }

  // p and availability are two views of one number: typing in either picks it as the one the
  // server uses and keeps the other in step, so the form never sends two that disagree.
  const round = (value) => String(parseFloat(value.toPrecision(12)));
  const mirrors = {
    id_failure: { other: "id_availability", choice: "p", high: 1, convert: (p) => round((1 - p) * 100) },
    id_availability: { other: "id_failure", choice: "availability", high: 100, convert: (a) => round(1 - a / 100) },
  };

  document.addEventListener("input", (event) => {
    const mirror = mirrors[event.target.id];
    if (!mirror) return;
    const form = event.target.form;
    const choice = form && form.querySelector(`input[name="p_as"][value="${mirror.choice}"]`);
    if (choice) choice.checked = true;
    const other = document.getElementById(mirror.other);
    const text = event.target.value.trim();
    const value = Number(text);
    if (!other) return;
    other.value = text !== "" && value >= 0 && value <= mirror.high ? mirror.convert(value) : "";
  });

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
    document.querySelectorAll("#simulator-form, #outage-form, #path-form").forEach(markInvalid);
  });
})();
