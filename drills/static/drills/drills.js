// When htmx gets an error back (a tampered or expired form, a server fault) it swaps nothing, so
// the reason would be lost. Show it in the form's own alert box instead.
document.addEventListener("htmx:responseError", (event) => {
  const form = event.detail.elt.closest("form") || event.detail.elt.querySelector("form");
  const box = form && form.querySelector("[data-htmx-error]");
  if (!box) return;
  const xhr = event.detail.xhr;
  const plain = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain");
  box.textContent = plain && xhr.responseText
    ? xhr.responseText
    : `Something went wrong (${xhr.status}). Reload the page and try again.`;
  box.classList.remove("d-none");
  box.setAttribute("tabindex", "-1");
  box.focus();
});

document.addEventListener("htmx:sendError", (event) => {
  const form = event.detail.elt.closest("form");
  const box = form && form.querySelector("[data-htmx-error]");
  if (!box) return;
  box.textContent = "The server could not be reached. Check your connection and try again.";
  box.classList.remove("d-none");
});

// A link in an error summary only scrolls by default; move the focus into the field as well, so
// that typing can start at once and a screen reader announces the field.
document.addEventListener("click", (event) => {
  const link = event.target.closest(".error-summary a[href^='#']");
  if (!link) return;
  const field = document.getElementById(link.getAttribute("href").slice(1));
  if (!field) return;
  event.preventDefault();
  field.scrollIntoView({ block: "center" });
  field.focus();
});
