// Small behaviours that Bootstrap's own JavaScript would otherwise bring: the navbar toggle.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-toggle-target]");
  if (!toggle) return;
  const target = document.querySelector(toggle.dataset.toggleTarget);
  if (!target) return;
  event.preventDefault();
  const open = target.classList.toggle("show");
  toggle.setAttribute("aria-expanded", String(open));
});

// After htmx swaps in new content, move focus to it when it asks for that, so keyboard and
// screen-reader users land on the feedback they just requested.
document.addEventListener("htmx:afterSwap", (event) => {
  const focusable = event.detail.elt.querySelector("[data-focus-on-swap]");
  if (focusable) focusable.focus();
});

// htmx swaps nothing when the server answers with an error, so without this the learner would
// click and see nothing happen. A form may place its own box ([data-htmx-error]); otherwise one
// is added at the top of the form.
function errorBoxFor(elt) {
  const form = elt.closest("form") || elt.querySelector("form");
  if (!form) return null;
  let box = form.querySelector("[data-htmx-error], [data-site-error]");
  if (box) {
    box.classList.remove("d-none");
    box.setAttribute("tabindex", "-1");
  } else {
    box = document.createElement("div");
    box.className = "alert alert-danger py-2 small";
    box.setAttribute("role", "alert");
    box.setAttribute("tabindex", "-1");
    box.dataset.siteError = "";
    form.prepend(box);
  }
  return box;
}

function errorMessage(xhr) {
  const plain = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain");
  if (plain && xhr.responseText && xhr.responseText.length < 300) return xhr.responseText;
  if (xhr.status === 403) {
    return "This form has expired, or you were signed out in another tab. Copy anything you " +
      "typed, reload the page and try again.";
  }
  if (xhr.status === 429) return "Too many attempts in a short time. Wait a little and try again.";
  if (xhr.status >= 500) return "Something went wrong on our side. Nothing was saved; try again.";
  return `The request was refused (${xhr.status}). Reload the page and try again.`;
}

document.addEventListener("htmx:responseError", (event) => {
  const box = errorBoxFor(event.detail.elt);
  if (!box) return;
  box.textContent = errorMessage(event.detail.xhr);
  box.focus();
});

document.addEventListener("htmx:sendError", (event) => {
  const box = errorBoxFor(event.detail.elt);
  if (!box) return;
  box.textContent = "The server could not be reached. Check your connection and try again.";
  box.focus();
});
