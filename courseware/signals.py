"""Signals the courseware sends for apps built on top of it (reviews, mastery).

Both are sent once the answer is committed, with ``sender`` the Problem and these keyword
arguments: ``learner``, ``problem``, ``instance`` (the ProblemInstance answered), ``answer`` (the
stored ProblemAnswer), ``correct`` and ``first_try`` (bools).
"""

from django.dispatch import Signal

# Every stored answer to a problem, right or wrong, first try or not.
problem_answered = Signal()
# A learner's first try at a problem was wrong: the problem is worth bringing back later.
problem_missed = Signal()
