// Small behaviours that Bootstrap's own JavaScript would otherwise bring: the navbar toggle.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-toggle-target]");
  if (!toggle) return;
  const target = document.querySelector(toggle.dataset.toggleTarget);
  if (!target) return;
  const open = target.classList.toggle("show");
  toggle.setAttribute("aria-expanded", String(open));
});

// After htmx swaps in new content, move focus to it when it asks for that, so keyboard and
// screen-reader users land on the feedback they just requested.
document.addEventListener("htmx:afterSwap", (event) => {
  const focusable = event.detail.elt.querySelector("[data-focus-on-swap]");
  if (focusable) focusable.focus();
});
