
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.matching import search

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-pass-2468"


def sign_up(client, **fields):
    data = {"username": "newbie", "email": "newbie@example.org",
            "password1": "a-strong-pass-9876", "password2": "a-strong-pass-9876", **fields}
    return client.post(reverse("signup"), data)


def signed_in_as(client) -> str | None:
    user = client.get(reverse("courseware:home")).context["user"]
    return user.username if user.is_authenticated else None


@pytest.fixture
def learner_with_email(learner):
    learner.email = "ada@example.org"
    learner.save()
    return learner


# Sign-up -----------------------------------------------------------------------------------


def test_sign_up_keeps_the_email_address(client, course):
    response = sign_up(client, email="  Newbie@Example.ORG ")
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    # The domain is case-insensitive by definition, so it is stored in lower case.
    assert user.email == "Newbie@example.org"
    assert signed_in_as(client) == "newbie"


def test_sign_up_page_asks_for_an_email_address(client):
    html = client.get(reverse("signup")).content.decode()
    assert 'type="email" name="email"' in html and "required" in html


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your e-mail address, so you can recover the account."),
        ("not-an-address", "Enter a valid email address."),
        ("ada@", "Enter a valid email address."),
    ],
)
def test_sign_up_without_a_valid_email_is_refused(client, email, message):
    response = sign_up(client, email=email)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not get_user_model().objects.filter(username="newbie").exists()


@pytest.mark.parametrize("email", ["ada@example.org", "ADA@EXAMPLE.ORG", "Ada@example.org"])
def test_an_email_address_in_use_is_refused_whatever_its_case(client, learner_with_email, email):
    response = sign_up(client, email=email)
    assert response.status_code == 200
    assert "An account with this e-mail address exists already." in response.content.decode()
    assert get_user_model().objects.filter(email__iexact="ada@example.org").count() == 1


# Forgotten password ------------------------------------------------------------------------


def test_the_login_page_offers_a_password_reset(client):
    html = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in html and "Forgot your password?" in html


def test_password_reset_end_to_end(client, learner_with_email):
    response = client.post(reverse("password_reset"), {"email": "ADA@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    assert "Check your inbox" in client.get(response["Location"]).content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.org"]
    assert message.subject == "Choose a new password for Critical Path"
    link = search(r"https?://testserver(/accounts/password/reset/\S+/\S+/)", str(message.body))[1]

    # Django swaps the token in the link for one kept in the session, then shows the form.
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": NEW_PASSWORD,
                                     "new_password2": NEW_PASSWORD})
    assert response["Location"] == reverse("password_reset_complete")
    assert "Your new password is set" in client.get(response["Location"]).content.decode()

    response = client.post(reverse("login"), {"username": "ada", "password": NEW_PASSWORD})
    assert response.status_code == 302 and signed_in_as(client) == "ada"
    client.logout()
    response = client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 200 and signed_in_as(client) is None

    # A used link does not work a second time.
    again = client.get(link, follow=True).content.decode()
    assert "This link no longer works" in again


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, learner_with_email):
    known = client.post(reverse("password_reset"), {"email": "ada@example.org"})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.org"]


@pytest.mark.parametrize(("email", "message"), [
    ("", "Enter the e-mail address of your account."),
    ("nope", "Enter a valid email address."),
])
def test_a_reset_request_without_an_address_is_a_form_error(client, email, message):
    response = client.post(reverse("password_reset"), {"email": email})
    assert response.status_code == 200 and message in response.content.decode()
    assert mail.outbox == []


def test_a_tampered_reset_link_says_it_no_longer_works(client, learner_with_email):
    response = client.get(reverse("password_reset_confirm",
                                  kwargs={"uidb64": "MQ", "token": "set-password"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "This link no longer works" in html and 'href="/accounts/password/reset/"' in html


def test_mismatched_new_passwords_are_a_form_error(client, learner_with_email):
    client.post(reverse("password_reset"), {"email": "ada@example.org"})
    link = search(r"https?://testserver(/\S+/)", str(mail.outbox[0].body))[1]
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": "other"})
    assert response.status_code == 200
    assert "The two password fields" in response.content.decode()
    learner_with_email.refresh_from_db()
    assert learner_with_email.check_password(PASSWORD)


def test_mail_settings_come_from_the_environment(monkeypatch):
    from tests.test_production import PRODUCTION, load_settings

    settings = load_settings(
        monkeypatch, **PRODUCTION, EMAIL_HOST="smtp.example.org", EMAIL_PORT="2525",
        EMAIL_HOST_USER="mailer", EMAIL_HOST_PASSWORD="secret", EMAIL_USE_TLS="false",
        DEFAULT_FROM_EMAIL="Course <course@example.org>",
    )
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    assert (settings.EMAIL_HOST, settings.EMAIL_PORT) == ("smtp.example.org", 2525)
    assert (settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD) == ("mailer", "secret")
    assert settings.EMAIL_USE_TLS is False
    assert settings.DEFAULT_FROM_EMAIL == "Course <course@example.org>"
    development = load_settings(monkeypatch)
    assert development.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
