// The grading page: one-click saved comments, a live rubric total and keyboard shortcuts.
// Everything is delegated from the document so it keeps working after htmx swaps the panel.
(() => {
  document.documentElement.classList.add("js");

  const gradeForm = () => document.querySelector("[data-grade-form]");

  const criteriaBoxes = (form) =>
    Array.from(form.querySelectorAll('input[type="checkbox"][name="criteria"]'));

  const updateScore = (form) => {
    const points = JSON.parse(form.dataset.rubricPoints || "[]");
    const score = form.querySelector('input[name="score"]');
    if (!score) return;
    const max = parseFloat(score.dataset.maxScore || "Infinity");
    let total = 0;
    for (const box of criteriaBoxes(form)) {
      if (box.checked) total += points[Number(box.value)] || 0;
    }
    score.value = String(Math.round(Math.min(total, max) * 100) / 100);
  };

  const insertAtCursor = (textarea, text) => {
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? textarea.value.length;
    const before = textarea.value.slice(0, start);
    const after = textarea.value.slice(end);
    const gap = before && !before.endsWith("\n") ? "\n\n" : "";
    textarea.value = before + gap + text + after;
    const caret = (before + gap + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  };

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box.name !== "criteria") return;
    const form = box.closest("[data-grade-form]");
    if (form) updateScore(form);
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-snippet-insert]");
    if (!button) return;
    const feedback = gradeForm()?.querySelector('textarea[name="feedback"]');
    if (!feedback) return;
    insertAtCursor(feedback, button.dataset.snippetInsert);
    button.classList.add("inserted");
  });

  const typing = (element) =>
    element.isContentEditable ||
    element.tagName === "TEXTAREA" ||
    element.tagName === "SELECT" ||
    (element.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(element.type));

  document.addEventListener("keydown", (event) => {
    const form = gradeForm();
    if (!form) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      const next = form.querySelector("[data-save-next]");
      if (next) {
        event.preventDefault();
        // A click, not requestSubmit(): htmx learns which button sent the form from the click.
        next.click();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
    if (!/^[1-9]$/.test(event.key)) return;
    const box = criteriaBoxes(form)[Number(event.key) - 1];
    if (!box) return;
    event.preventDefault();
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
