// The grading page: one-click saved comments, a live rubric total and keyboard shortcuts.
// Everything is delegated from the document so it keeps working after htmx swaps the panel.
(() => {
  document.documentElement.classList.add("js");

  const gradeForm = () => document.querySelector("[data-grade-form]");

  const criteriaBoxes = (form) =>
    Array.from(form.querySelectorAll('input[type="checkbox"][name="criteria"]'));

  const rubricTotal = (form, flipped) => {
    const points = JSON.parse(form.dataset.rubricPoints || "[]");
    const score = form.querySelector('input[name="score"]');
    const max = parseFloat(score?.dataset.maxScore || "Infinity");
    let total = 0;
    for (const box of criteriaBoxes(form)) {
      const ticked = box === flipped ? !box.checked : box.checked;
      if (ticked) total += points[box.value] || 0;
    }
    return Math.round(Math.min(total, max) * 100) / 100;
  };

  const sumHint = (score) => {
    let hint = score.parentElement.querySelector("[data-rubric-sum]");
    if (!hint) {
      hint = document.createElement("div");
      hint.className = "form-text rubric-sum";
      hint.dataset.rubricSum = "";
      hint.setAttribute("aria-live", "polite");
      score.insertAdjacentElement("afterend", hint);
    }
    return hint;
  };

  // The score follows the rubric only while it still holds the rubric's total (or nothing):
  // a score the grader typed is theirs, and the rubric total is shown beside it instead.
  const updateScore = (form, changed) => {
    const score = form.querySelector('input[name="score"]');
    if (!score) return;
    const total = rubricTotal(form, null);
    const before = rubricTotal(form, changed);
    const typed = score.value.trim();
    const hint = sumHint(score);
    if (typed === "" || Number(typed.replace(",", ".")) === before) {
      const anyTicked = criteriaBoxes(form).some((box) => box.checked);
      score.value = anyTicked ? String(total) : "";
      hint.replaceChildren();
      return;
    }
    const use = document.createElement("button");
    use.type = "button";
    use.className = "btn btn-link btn-sm p-0 align-baseline";
    use.dataset.useRubricSum = String(total);
    use.textContent = `Use ${total}`;
    hint.replaceChildren(`The ticked criteria add up to ${total}; your score of ${typed} is kept. `, use);
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
    if (form) updateScore(form, box);
  });

  document.addEventListener("click", (event) => {
    const use = event.target.closest("[data-use-rubric-sum]");
    if (!use) return;
    const score = use.closest("form")?.querySelector('input[name="score"]');
    if (!score) return;
    score.value = use.dataset.useRubricSum;
    use.closest("[data-rubric-sum]").replaceChildren();
    score.focus();
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
