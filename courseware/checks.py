"""Grading of quick checks: plain data in, a verdict with per-option feedback out."""

from dataclasses import dataclass


@dataclass(frozen=True)
class OptionKey:
    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class OptionVerdict:
    index: int
    text: str
    selected: bool
    correct: bool
    feedback: str

    @property
    def right_call(self) -> bool:
        """The learner treated this option as it should be treated (chosen if and only if right)."""
        return self.selected == self.correct


@dataclass(frozen=True)
class QuickCheckResult:
    correct: bool
    options: list[OptionVerdict]

    @property
    def selected(self) -> set[int]:
        return {verdict.index for verdict in self.options if verdict.selected}


def grade_quick_check(options: list[OptionKey], selected: set[int]) -> QuickCheckResult:
    verdicts = [
        OptionVerdict(
            index=index,
            text=option.text,
            selected=index in selected,
            correct=option.correct,
            feedback=option.feedback,
        )
        for index, option in enumerate(options)
    ]
    return QuickCheckResult(correct=all(v.right_call for v in verdicts), options=verdicts)
