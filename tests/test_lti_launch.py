"""LTI 1.3 launches from a stand-in platform: login initiation, launch, sign-in, refusals."""

from __future__ import annotations

import io
import json
import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from lti_tool.models import Key, LtiDeployment, LtiRegistration, LtiUser

from accounts.roles import INSTRUCTORS
from lti.models import Placement, UsedNonce
from tests.lti_helpers import launch, login
from tests.lti_platform import INSTRUCTOR, LTI, TEACHING_ASSISTANT, new_key

pytestmark = pytest.mark.django_db

User = get_user_model()


def frame_ancestors(response) -> list[str]:
    for directive in response["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        if name == "frame-ancestors":
            return values
    return []


def lesson_target(slug: str = "two-styles") -> dict:
    return {LTI + "custom": {"target": f"lesson:{slug}"}}


# Registration ------------------------------------------------------------------------------


def test_registering_prints_the_addresses_to_paste_into_the_platform(tool_urls, platform):
    registration = LtiRegistration.objects.get(issuer=platform.issuer)
    assert tool_urls == {
        "login_url": f"http://testserver/lti/login/{registration.uuid}/",
        "launch_url": "http://testserver/lti/launch/",
        "jwks_url": "http://testserver/lti/jwks.json",
        "deep_linking_url": "http://testserver/lti/launch/",
    }
    assert registration.client_id == platform.client_id
    assert registration.token_url == platform.token_url
    assert LtiDeployment.objects.get(registration=registration).deployment_id == "deployment-1"


def test_registering_again_updates_rather_than_duplicates(tool_urls, platform):
    call_command(
        "lti_add_platform", "--issuer", platform.issuer, "--client-id", platform.client_id,
        "--deployment-id", "deployment-2", "--auth-url", platform.auth_url,
        "--token-url", platform.token_url + "?v=2", "--keyset-url", platform.keyset_url,
        stdout=io.StringIO(),
    )
    registration = LtiRegistration.objects.get()
    assert registration.token_url.endswith("?v=2")
    assert set(registration.deployments.values_list("deployment_id", flat=True)) == {
        "deployment-1", "deployment-2"}


@pytest.mark.parametrize("bad", [["--auth-url", "not a url"], ["--deployment-id", " "]])
def test_registering_refuses_bad_arguments(db, bad):
    args = {"--issuer": "https://lms.example", "--client-id": "c", "--deployment-id": "d",
            "--auth-url": "https://lms.example/auth", "--token-url": "https://lms.example/t",
            "--keyset-url": "https://lms.example/k"}
    args[bad[0]] = bad[1]
    with pytest.raises(Exception, match=bad[0].lstrip("-").replace("-", "-")):
        call_command("lti_add_platform", *[x for pair in args.items() for x in pair],
                     stdout=io.StringIO())
    assert not LtiRegistration.objects.exists()


def test_the_key_set_publishes_the_tool_keys_and_rotation_keeps_the_old_one_a_while(
        client, tool_urls):
    first = client.get(reverse("lti:jwks")).json()["keys"]
    assert len(first) == 1 and first[0]["alg"] == "RS256" and "d" not in first[0]
    call_command("rotate_keys", stdout=io.StringIO())
    second = client.get(reverse("lti:jwks")).json()["keys"]
    # Platforms that cached the old key set still check what was signed before.
    assert {k["kid"] for k in first} < {k["kid"] for k in second}
    Key.objects.update(datetime_created=Key.objects.latest().datetime_created.replace(year=2000))
    call_command("rotate_keys", stdout=io.StringIO())
    third = client.get(reverse("lti:jwks")).json()["keys"]
    assert len(third) == 1 and third[0]["kid"] not in {k["kid"] for k in second}


# Launches ----------------------------------------------------------------------------------


def test_a_learner_launch_signs_in_a_new_account_and_lands_on_the_linked_lesson(
        client, course, tool_urls, platform):
    response = launch(client, tool_urls, platform, claims=lambda c: {**c, **lesson_target()})
    assert response.status_code == 302
    assert response["Location"] == reverse("courseware:lesson", args=["two-styles"])
    lti_user = LtiUser.objects.get(sub="learner-1")
    user = lti_user.auth_user
    assert user is not None and not user.has_usable_password()
    assert (user.first_name, user.last_name, user.email) == ("Ada", "Lovelace",
                                                             "ada@example.org")
    assert not user.groups.filter(name=INSTRUCTORS).exists()
    assert Placement.objects.get().target == "lesson:two-styles"
    page = client.get(response["Location"])
    assert page.status_code == 200 and page.context["user"] == user


def test_a_second_launch_finds_the_same_account(client, course, tool_urls, platform):
    launch(client, tool_urls, platform)
    client.logout()
    launch(client, tool_urls, platform)
    assert User.objects.filter(lti_users__sub="learner-1").count() == 1
    assert LtiUser.objects.count() == 1


def test_an_account_is_never_matched_by_email_alone(client, course, tool_urls, platform):
    existing = User.objects.create_user("ada-site", email="ada@example.org", password="x" * 12)
    launch(client, tool_urls, platform)
    lti_user = LtiUser.objects.get(sub="learner-1")
    assert lti_user.auth_user != existing
    assert client.get(reverse("courseware:home")).context["user"] != existing


@pytest.mark.parametrize("role", [INSTRUCTOR, TEACHING_ASSISTANT, "Instructor"])
def test_an_instructor_launch_gives_grading_access(client, course, tool_urls, platform, role):
    response = launch(client, tool_urls, platform, sub="teacher-1", roles=[role])
    assert response.status_code == 302
    user = LtiUser.objects.get(sub="teacher-1").auth_user
    assert user.groups.filter(name=INSTRUCTORS).exists()
    assert client.get(reverse("grading:queue")).status_code == 200


def test_a_learner_launch_takes_back_what_an_earlier_instructor_launch_gave(
        client, course, tool_urls, platform):
    launch(client, tool_urls, platform, sub="p-1", roles=[INSTRUCTOR])
    client.logout()
    launch(client, tool_urls, platform, sub="p-1")
    user = LtiUser.objects.get(sub="p-1").auth_user
    assert not user.groups.filter(name=INSTRUCTORS).exists()
    assert client.get(reverse("grading:queue")).status_code == 403


@pytest.mark.parametrize("target,where", [
    ("drill:book-hotel", "/drills/book-hotel/"),
    ("simulator:outage", "/simulator/outage/"),
    ("home", "/"),
    ("lesson:no-such-lesson", "/"),
])
def test_a_launch_lands_on_what_its_link_names(client, course, tool_urls, platform, target,
                                               where):
    response = launch(client, tool_urls, platform,
                      claims=lambda c: {**c, LTI + "custom": {"target": target}})
    assert response["Location"] == where


def test_a_link_to_a_page_of_the_site_opens_that_page(client, course, tool_urls, platform):
    response = launch(client, tool_urls, platform, claims=lambda c: {
        **c, LTI + "target_link_uri": "http://testserver/drills/book-hotel/"})
    assert response["Location"] == "/drills/book-hotel/"


def test_the_lti_session_cookie_works_inside_a_frame(client, course, tool_urls, platform):
    response = launch(client, tool_urls, platform)
    cookie = response.cookies["sessionid"]
    assert cookie["samesite"] == "None" and cookie["secure"] is True
    page = client.get("/")
    ancestors = frame_ancestors(page)
    assert ancestors == sorted(["https://lms.example.test", platform.base_url])
    assert "X-Frame-Options" not in page


def test_a_site_session_still_refuses_every_frame(learner_client, tool_urls):
    page = learner_client.get("/")
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"


# Refusals ----------------------------------------------------------------------------------


def expired(claims):
    return {**claims, "exp": int(time.time()) - 60, "iat": int(time.time()) - 400}


def without(*names):
    return lambda claims: {k: v for k, v in claims.items() if k not in names}


BAD_TOKENS = {
    "bad signature": (dict(sign=lambda p, c: p.sign(c, key=new_key()[0])), "signature"),
    "unknown key": (dict(sign=lambda p, c: p.sign(c, kid="no-such-key")), "signature"),
    "wrong audience": (dict(claims=lambda c: {**c, "aud": "another-tool"}), "audience"),
    "unknown issuer": (dict(claims=lambda c: {**c, "iss": "https://evil.example"}),
                       "not a registered platform"),
    "unknown deployment": (dict(claims=lambda c: {**c, LTI + "deployment_id": "other"}),
                           "deployment"),
    "expired": (dict(claims=expired), "expired"),
    "no sub": (dict(claims=without("sub")), "sub"),
    "no exp": (dict(claims=without("exp")), "exp"),
    "no roles": (dict(claims=without(LTI + "roles")), "roles"),
    "no version": (dict(claims=without(LTI + "version")), "version"),
    "no resource link": (dict(claims=without(LTI + "resource_link")), "resource_link"),
    "foreign nonce": (dict(claims=lambda c: {**c, "nonce": "made-up"}), "nonce"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_bad_id_token_is_refused_by_name_and_creates_nothing(client, course, tool_urls,
                                                               platform, case):
    options, named = BAD_TOKENS[case]
    if "sign" in options:
        signer = options["sign"]
        options = {"sign": lambda c: signer(platform, c)}
    users = User.objects.count()
    response = launch(client, tool_urls, platform, **options)
    assert response.status_code == 403
    assert "lti/refused.html" in [t.name for t in response.templates]
    assert named in response.context["problem"]
    assert User.objects.count() == users
    assert not LtiUser.objects.exists() and not UsedNonce.objects.exists()
    assert LtiDeployment.objects.count() == 1
    assert "_auth_user_id" not in client.session


def test_a_rotated_platform_key_is_fetched_at_once_and_made_up_key_ids_fetch_nothing(
        client, course, tool_urls, platform):
    assert launch(client, tool_urls, platform).status_code == 302
    assert platform.keyset_fetches == 1
    assert launch(Client(), tool_urls, platform, sub="learner-2").status_code == 302
    assert platform.keyset_fetches == 1  # the cached set served the second launch
    platform.rotate_key()
    # Signed with a key the cached set lacks: the set is fetched again, not refused for minutes.
    assert launch(Client(), tool_urls, platform, sub="learner-3").status_code == 302
    assert platform.keyset_fetches == 2
    for n in range(3):
        forged = launch(Client(), tool_urls, platform, sub=f"forger-{n}",
                        sign=lambda c: platform.sign(c, kid="made-up"))
        assert forged.status_code == 403 and "signature" in forged.context["problem"]
    # The set was fetched a moment ago, so made-up ids are checked against the cached one.
    assert platform.keyset_fetches == 2


def test_a_key_set_that_cannot_be_fetched_is_a_named_refusal(client, course, tool_urls,
                                                              platform, registration):
    registration.keyset_url = platform.base_url + "/no-such-keyset"
    registration.save()
    response = launch(client, tool_urls, platform)
    assert response.status_code == 403
    assert "key set could not be fetched" in response.context["problem"]
    assert not LtiUser.objects.exists()


def test_a_replayed_launch_is_refused(client, course, tool_urls, platform):
    auth = login(client, tool_urls, platform)
    token = platform.sign(platform.claims(nonce=auth["nonce"]))
    path = urlsplit(auth["redirect_uri"]).path
    assert client.post(path, {"id_token": token, "state": auth["state"]}).status_code == 302
    # Same browser, same state cookie: all that differs is that the nonce was spent.
    again = client.post(path, {"id_token": token, "state": auth["state"]})
    assert again.status_code == 403 and "nonce was used before" in again.context["problem"]
    # A new token reusing the nonce fares no better.
    token = platform.sign(platform.claims(nonce=auth["nonce"], sub="someone-else"))
    assert client.post(path, {"id_token": token, "state": auth["state"]}).status_code == 403
    assert LtiUser.objects.count() == 1


@pytest.mark.parametrize("post", [{}, {"id_token": "not-a-jwt", "state": "s"},
                                  {"id_token": "a.b.c"}])
def test_a_launch_without_a_usable_token_is_refused(client, db, tool_urls, post):
    response = client.post(reverse("lti:launch"), post)
    assert response.status_code == 403 and response.context["problem"]


def test_a_launch_without_cookies_shows_the_cookie_page_not_a_loop(client, course, tool_urls,
                                                                   platform):
    auth = login(client, tool_urls, platform)
    client.cookies.clear()
    token = platform.sign(platform.claims(nonce=auth["nonce"]))
    response = client.post(reverse("lti:launch"), {"id_token": token, "state": auth["state"]})
    assert response.status_code == 200
    assert "lti/cookies.html" in [t.name for t in response.templates]
    restart = response.context["restart_url"]
    # The way on is a link for a window of its own, never a redirect back into the frame.
    assert restart.startswith(urlsplit(tool_urls["login_url"]).path)
    assert 'target="_blank"' in response.content.decode()
    assert not LtiUser.objects.exists()
    # Followed in the new window, it starts a fresh login at the platform.
    fresh = client.get(restart)
    assert fresh.status_code == 302 and fresh["Location"].startswith(platform.auth_url)
    assert "https://lms.example.test" in frame_ancestors(response)


@pytest.mark.parametrize("change,named", [
    ({"iss": "https://evil.example"}, "issuer"),
    ({"login_hint": ""}, "login_hint"),
    ({"client_id": "another-tool"}, "client id"),
])
def test_a_bad_login_initiation_is_refused(client, tool_urls, platform, change, named):
    query = {"iss": platform.issuer, "login_hint": "h", "client_id": platform.client_id,
             "target_link_uri": tool_urls["launch_url"], **change}
    response = client.get(urlsplit(tool_urls["login_url"]).path, query)
    assert response.status_code == 403 and named in response.context["problem"]


def test_a_login_at_an_unknown_address_is_refused(client, db):
    response = client.get(reverse("lti:login", args=["6f1c1d1e-0000-4000-8000-000000000000"]))
    assert response.status_code == 403


def test_the_launch_address_takes_only_post(client, db):
    assert client.get(reverse("lti:launch")).status_code == 405


def test_keys_are_json(client, tool_urls):
    assert json.loads(client.get(reverse("lti:jwks")).content)["keys"]
