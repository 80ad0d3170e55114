import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from grading import services
from grading.export import neutralise
from grading.gradebook import gradebook_page
from tests.grading_factories import make_attempt, make_drill, make_question, make_submission

pytestmark = pytest.mark.django_db


def grade(submission, grader, score, *, release=False, criteria=()):
    result = services.save_grade(
        submission=submission, grader=grader, score=Decimal(score), criteria=list(criteria),
        feedback="", expected_version=0,
    )
    if release:
        services.release_grade(grade=result.grade, by=grader)
    return result.grade


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.fixture
def classroom(make_user, instructor):
    """Three learners, two questions and a drill, with a mix of grades and attempts."""
    q1, q2 = make_question(max_score=10), make_question(max_score=5, rubric=[])
    drill = make_drill(review=False)
    ada, bob, cy = make_user("ada"), make_user("bob"), make_user("cy")
    grade(make_submission(ada, q1), instructor, 8, release=True)
    grade(make_submission(ada, q1), instructor, 6, release=True)  # best one counts
    grade(make_submission(ada, q2), instructor, 4)  # a draft
    grade(make_submission(bob, q1), instructor, 9, release=True)
    make_submission(bob, q2)  # handed in, not graded
    make_attempt(drill, ada, [("sync", ""), ("sync", ""), ("sync", "")])  # 1 of 3
    make_attempt(drill, ada)  # 3 of 3
    make_attempt(drill, cy, [("async", ""), ("async", ""), ("async", "")])  # 2 of 3
    return {"q1": q1, "q2": q2, "drill": drill, "ada": ada, "bob": bob, "cy": cy}


def sorted_rows(sort: str = "name"):
    book, page = gradebook_page(sort=sort, page=1, per_page=100)
    return book, list(page.object_list)


def test_gradebook_cells_totals_and_completion(classroom):
    book, page_rows = sorted_rows()
    assert [c.slug for c in book.columns] == [
        classroom["q1"].slug, classroom["q2"].slug, classroom["drill"].slug,
    ]
    # A drill counts the points its own grading gives: 3 interactions of 3 points each.
    assert book.max_total == 24
    rows = {row.username: row for row in page_rows}
    assert list(rows) == ["ada", "bob", "cy"]  # instructors are not learners
    ada = rows["ada"]
    assert [c.score for c in ada.cells] == [8, 4, 9]
    assert [c.draft for c in ada.cells] == [False, True, False]
    assert (ada.total, ada.completion) == (21, 100)
    bob = rows["bob"]
    assert [c.score for c in bob.cells] == [9, None, None]
    assert bob.cells[1].submitted and bob.cells[1].awaiting == 1
    assert (bob.total, bob.completion) == (9, 67)
    assert (rows["cy"].total, rows["cy"].completion) == (6, 33)


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("name", ["ada", "bob", "cy"]),
        ("-name", ["cy", "bob", "ada"]),
        ("-total", ["ada", "bob", "cy"]),
        ("total", ["cy", "bob", "ada"]),
        ("completion", ["cy", "bob", "ada"]),
        ("nonsense", ["ada", "bob", "cy"]),
    ],
)
def test_gradebook_sorts_on_the_server(classroom, sort, order):
    book, rows = sorted_rows(sort)
    assert [row.username for row in rows] == order
    assert book.sort == (sort if sort != "nonsense" else "name")


def test_gradebook_sorts_by_a_column_with_blanks_last(classroom):
    key = f"q-{classroom['q1'].slug}"
    assert [r.username for r in sorted_rows(f"-{key}")[1]] == ["bob", "ada", "cy"]
    assert [r.username for r in sorted_rows(key)[1]] == ["ada", "bob", "cy"]
    drill_key = f"d-{classroom['drill'].slug}"
    assert [r.username for r in sorted_rows(drill_key)[1]] == ["cy", "ada", "bob"]
    assert [r.username for r in sorted_rows(f"-{drill_key}")[1]] == ["ada", "cy", "bob"]


def test_gradebook_page_sorted_by_name_reads_only_its_page(instructor_client, classroom):
    response = instructor_client.get(reverse("grading:gradebook"), {"sort": "-name"})
    rows = response.context["page"].object_list
    assert [row.username for row in rows] == ["cy", "bob", "ada"]
    assert [c.score for c in rows[2].cells] == [8, 4, 9]
    assert response.context["page"].paginator.count == 3


def test_gradebook_page_renders_sorted_and_marks_drafts(instructor_client, classroom):
    response = instructor_client.get(reverse("grading:gradebook"), {"sort": "-total"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(">ada<") < html.index(">bob<") < html.index(">cy<")
    assert "4*" in html  # ada's draft
    # The key explains the marks, and that totals count drafts.
    assert "draft, not released yet" in html
    assert "handed in, not graded yet" in html and "not handed in" in html
    assert "Totals include draft grades, which learners cannot see yet." in html
    assert 'aria-sort="descending"' in html
    assert "Export gradebook (CSV)" in html


def test_gradebook_htmx_sort_returns_only_the_table(instructor_client, classroom):
    response = instructor_client.get(reverse("grading:gradebook"), {"sort": "total"},
                                     HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="gradebook-table"')
    assert "<header" not in html


@pytest.mark.parametrize("sort", ["name", "-total"])
def test_gradebook_query_count_does_not_grow_with_the_class(
    instructor_client, make_user, instructor, django_assert_max_num_queries, sort
):
    def add_learners(start, count):
        questions = [make_question() for _ in range(3)]
        drill = make_drill(review=False)
        for i in range(start, start + count):
            person = make_user(f"learner{i:03}")
            for question in questions:
                grade(make_submission(person, question), instructor, 5, release=True)
            make_attempt(drill, person)

    url = reverse("grading:gradebook")
    add_learners(0, 3)
    # Fixed costs include the list of sections for the section filter and the navigation's
    # count of review cards due, and which questions are graded anonymously.
    with django_assert_max_num_queries(20) as small:
        assert instructor_client.get(url, {"sort": sort}).status_code == 200
    add_learners(3, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = instructor_client.get(url, {"sort": sort})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 15


def test_gradebook_paginates_but_the_csv_has_everyone(instructor_client, make_user):
    for i in range(55):
        make_user(f"person{i:02}")
    page = instructor_client.get(reverse("grading:gradebook"))
    assert len(page.context["page"].object_list) == 50
    second = instructor_client.get(reverse("grading:gradebook"), {"page": 2, "sort": "name"})
    assert len(second.context["page"].object_list) == 5
    rows = read_csv(instructor_client.get(reverse("grading:gradebook_csv")))
    assert len(rows) == 56


def test_gradebook_csv_contents_and_column_order(instructor_client, classroom):
    response = instructor_client.get(reverse("grading:gradebook_csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="gradebook.csv"' in response["Content-Disposition"]
    assert response.streaming
    header, *rows = read_csv(response)
    q1, q2, drill = classroom["q1"].slug, classroom["q2"].slug, classroom["drill"].slug
    assert header == [
        "username", "name", "email",
        f"question {q1} (out of 10)", f"question {q1} status",
        f"question {q2} (out of 5)", f"question {q2} status",
        f"drill {drill} (out of 9)", f"drill {drill} status",
        "total", "out of", "completion %", "awaiting grading", "draft grades",
    ]
    assert rows == [
        ["ada", "", "", "8", "released", "4", "draft", "9", "released",
         "21", "24", "100", "0", "1"],
        ["bob", "", "", "9", "released", "", "awaiting grading", "", "not handed in",
         "9", "24", "67", "1", "0"],
        ["cy", "", "", "", "not handed in", "", "not handed in", "6", "released",
         "6", "24", "33", "0", "0"],
    ]


def test_gradebook_csv_is_utf8_and_neutralises_formulas(instructor_client, make_user):
    person = make_user("=cmd")
    person.first_name, person.last_name = "Zoë", "@SUM(A1)"
    person.email = "+1@example.com"
    person.save()
    header, row = read_csv(instructor_client.get(reverse("grading:gradebook_csv")))
    assert row[:3] == ["'=cmd", "Zoë @SUM(A1)", "'+1@example.com"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"),
        (Decimal("7.50"), "7.5"), (Decimal("10"), "10"), (None, ""), (3, "3"), (True, "yes"),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_submissions_csv_one_row_per_submission(instructor_client, instructor, learner):
    question = make_question()
    first = make_submission(learner, question, answer='=HYPERLINK("http://x")\nline two')
    services.save_grade(submission=first, grader=instructor, score=Decimal("7.5"),
                        criteria=["c1", "c3"], feedback="-ve remark", expected_version=0)
    make_submission(learner, question, answer="Second answer, “quoted”")
    response = instructor_client.get(reverse("grading:submissions_csv"))
    header, *rows = read_csv(response)
    assert header[:5] == ["submission", "username", "name", "email", "kind"]
    assert len(rows) == 2
    row = dict(zip(header, rows[0], strict=True))
    assert row["answer"] == "'=HYPERLINK(\"http://x\")\nline two"
    assert row["feedback"] == "'-ve remark"
    assert row["score"] == "7.5" and row["out of"] == "10"
    assert row["criteria met"] == (
        "Names the caller waiting for the answer; Picks async for the bookkeeping step"
    )
    assert row["status"] == "Graded" and row["released"] == "no"
    assert dict(zip(header, rows[1], strict=True))["answer"] == "Second answer, “quoted”"
    # The queue's filters apply to the export.
    filtered = read_csv(instructor_client.get(reverse("grading:submissions_csv"),
                                              {"status": "graded"}))
    assert len(filtered) == 2


def test_statistics_chart_and_table_twin(instructor_client, make_user, instructor):
    drill = make_drill(title="Parcel tracking")
    for i in range(4):
        # Everyone marks the payments hop async (wrong); one in four gets email wrong.
        answers = [("async", ""), ("sync" if i == 0 else "async", ""), ("async", "")]
        make_attempt(drill, make_user(f"s{i}"), answers)
    question = make_question()
    grade(make_submission(make_user("writer"), question), instructor, 7, criteria=["c1"])
    response = instructor_client.get(reverse("grading:statistics"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "vendor/plotly/plotly-basic.min.js" in html
    assert "grading/statistics.js" in html
    assert '<script id="misconceptions-figure" type="application/json">' in html
    stats = response.context["stats"]
    top, second = stats.misconceptions
    assert (top.label, top.percent, top.wrong, top.answers) == ("checkout → payments", 100, 4, 4)
    assert (second.label, second.percent, second.commonest_wrong) == ("orders → email", 25,
                                                                      "sync (1×)")
    figure = response.context["figure"]
    assert figure["data"][0]["type"] == "bar"
    assert list(figure["data"][0]["x"]) == [25, 100]  # drawn bottom-up: the worst on top
    assert "<td>checkout → payments</td>" in html  # the table twin
    drill_row = html[html.index("Drill: Parcel tracking"):]
    drill_row = drill_row[:drill_row.index("</tr>")]
    assert "Auto-scored" in drill_row and "reviewed" not in drill_row
    question_stats = next(s for s in stats.assessments if s.assessment.pk == question.pk)
    assert (question_stats.graded, question_stats.mean) == (1, 7)
    assert question_stats.criteria[0].percent == 100
    # No inline scripts: the only script elements load files or carry JSON.
    for chunk in html.split("<script")[1:]:
        opening = chunk.split(">")[0]
        assert "src=" in opening or 'type="application/json"' in opening, opening


def test_statistics_without_drill_answers_loads_no_plotly(instructor_client):
    html = instructor_client.get(reverse("grading:statistics")).content.decode()
    assert "plotly" not in html
    assert "No drill answers have been recorded yet" in html


def test_sorting_pages_through_the_whole_class(instructor_client, make_user, instructor):
    question = make_question()
    for i in range(7):
        grade(make_submission(make_user(f"p{i}"), question), instructor, i)
    book, page = gradebook_page(sort="-total", page=2, per_page=3)
    assert [row.username for row in page.object_list] == ["p3", "p2", "p1"]
    assert [row.total for row in page.object_list] == [3, 2, 1]


def test_gradebook_without_any_assessment(instructor_client, learner):
    for sort in ("name", "-total", "completion"):
        response = instructor_client.get(reverse("grading:gradebook"), {"sort": sort})
        assert response.status_code == 200
        assert [row.username for row in response.context["page"].object_list] == ["ada"]
