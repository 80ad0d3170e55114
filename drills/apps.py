from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "drills"

    # Given to the Instructors group (see accounts.roles).
    instructor_permissions = [
        "view_drill", "change_drill", "add_drill",
        "view_interaction", "change_interaction", "add_interaction", "delete_interaction",
        "view_attempt", "view_attemptanswer",
    ]

    def ready(self) -> None:
        from courseware import cards, loader, slots
        from courseware.versioning import bump_on_change
        from drills import card_kinds, grading
        from drills import loader as drills_loader
        from drills.models import Drill, Interaction

        bump_on_change(Drill, Interaction)
        loader.register(drills_loader)
        cards.register(card_kinds.InteractionKind())
        cards.name_questions({n: q.text for n, q in grading.QUESTIONS.items()})
        slots.fill("home-actions", "drills/_home_actions.html")
        slots.fill("lesson-end", "drills/_practice_card.html")
        slots.fill("workflow-question", "drills/_workflow_question.html")
