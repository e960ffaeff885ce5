"""Certificates over HTTP: earned at a completed event, rendered, emailed, verified by anyone,
corrected and revoked by staff, and invisible across organizations."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pypdf
import pytest

from cpd.adapters.security.credential_signing import verify_credential_jwt
from tests.api.conftest import Api, Caller, assert_problem, eventually
from tests.support.clock import FakeClock
from tests.support.samples import tiny_png


def pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


class Course:
    """An organization whose event Alice attended in full and Bob for a quarter."""

    def __init__(self, api: Api, clock: FakeClock) -> None:
        self.api, self.clock = api, clock
        self.owner = api.user()
        self.org = api.organization(self.owner, name="Royal Society of Ethics")
        self.alice = api.user(first_name="Łukasz", last_name="Żółć")
        self.bob = api.user()
        # Tokens are dated by the app's clock and checked against the wall clock: everyone
        # logs in before the clock moves past the event.
        self.rival = api.user()
        api.organization(self.rival, name="Rival Society")
        self.member = api.user()
        api.add_member(self.org, self.owner, self.member, "member")
        starts = clock.now() + timedelta(days=1)
        self.event = api.event(
            self.owner,
            self.org,
            attendance_threshold_percent=75,
            cpd_credits="2.5",
            credit_category="Category 1",
            sessions=[
                {
                    "title": "All day",
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=2)).isoformat(),
                }
            ],
        )
        self.base = f"/api/v1/events/{self.event['id']}"
        for person in (self.alice, self.bob):
            booked = api.client.post(
                "/api/v1/registrations",
                json={"event_id": self.event["id"]},
                headers={**person.headers, "Idempotency-Key": f"k-{person.id}"},
            )
            assert booked.status_code == 201, booked.text
            assert booked.json()["status"] == "confirmed"
        clock.advance(days=2)
        session = self.event["sessions"][0]["id"]
        recorded = api.client.post(
            f"{self.base}/sessions/{session}/attendance",
            headers=self.owner.headers,
            json={
                "attendees": [
                    {"user_id": self.alice.id},
                    {"user_id": self.bob.id, "minutes_attended": 30},
                ]
            },
        )
        assert recorded.status_code == 200, recorded.text

    def complete(self) -> None:
        done = self.api.client.post(f"{self.base}/complete", headers=self.owner.headers)
        assert done.status_code == 200, done.text

    def certificates(self, caller: Caller | None = None) -> list[dict[str, Any]]:
        listed = self.api.client.get(
            f"{self.base}/certificates", headers=(caller or self.owner).headers
        )
        assert listed.status_code == 200, listed.text
        return list(listed.json()["items"])


@pytest.fixture
def course(timed: tuple[Api, FakeClock]) -> Course:
    return Course(*timed)


def test_completing_an_event_certifies_those_who_attended_enough(course: Course) -> None:
    api, alice = course.api, course.alice
    course.complete()
    issued = eventually(lambda: [c for c in course.certificates() if c["pdf_ready"]])
    assert [c["holder_name"] for c in issued] == ["Łukasz Żółć"]  # Bob attended 25% of 75%
    certificate = issued[0]
    assert certificate["serial_number"] == "RSOE-000001"
    assert (certificate["cpd_credits"], certificate["credit_category"]) == ("2.5", "Category 1")
    assert (certificate["status"], certificate["version"]) == ("issued", 1)

    mine = api.client.get("/api/v1/certificates", headers=alice.headers).json()
    assert [c["id"] for c in mine["items"]] == [certificate["id"]]
    download = api.client.get(certificate["download_url"], headers=alice.headers)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert "RSOE-000001" in download.headers["content-disposition"]
    text = pdf_text(download.content)
    assert "Łukasz Żółć" in text
    assert certificate["verification_code"] in text

    (email,) = api.sent_mail(alice.email, about="certificate")
    (attachment,) = email.attachments
    assert attachment.content_type == "application/pdf"
    assert attachment.filename == "certificate-RSOE-000001.pdf"
    assert "Łukasz Żółć" in pdf_text(attachment.data)

    def logged() -> list[str]:  # the send is logged in its own commit, just after the mail
        page = api.client.get("/api/v1/users/me/communications", headers=alice.headers).json()
        return [c["template"] for c in page["items"]]

    assert eventually(lambda: "certificate_issued" in logged())


def test_anyone_verifies_a_code_and_sees_only_what_is_printed(course: Course) -> None:
    api = course.api
    course.complete()
    (certificate,) = eventually(course.certificates)
    code = certificate["verification_code"]
    typed = code.replace("-", "").lower()  # as a person might type it back
    verified = api.client.get(f"/api/v1/certificates/verify/{typed}")
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body == {
        "valid": True,
        "status": "issued",
        "holder_name": "Łukasz Żółć",
        "title": course.event["title"],
        "organization": "Royal Society of Ethics",
        "issued_at": body["issued_at"],
        "cpd_credits": "2.5",
        "credit_category": "Category 1",
        "serial_number": "RSOE-000001",
        "verification_code": code,
        "version": 1,
    }
    assert course.alice.email not in verified.text
    page = api.client.get(f"/verify/{code}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "Valid certificate" in page.text
    assert "Łukasz Żółć" in page.text

    assert_problem(api.client.get("/api/v1/certificates/verify/not-a-code"), 400, "code")
    unknown = "0000-0000-0000-0000-00"
    assert_problem(api.client.get(f"/api/v1/certificates/verify/{unknown}"), 404)
    assert api.client.get(f"/verify/{unknown}").status_code == 404
    assert api.client.get("/verify/<script>").status_code == 404


def test_staff_override_revoke_and_reissue(course: Course) -> None:
    api, owner, bob = course.api, course.owner, course.bob
    course.complete()
    (alices,) = eventually(course.certificates)
    manual = {"source": "event", "source_id": course.event["id"], "user_id": bob.id}

    refused = assert_problem(
        api.client.post("/api/v1/certificates", json=manual, headers=owner.headers),
        409,
        "override_reason",
    )
    assert "Attended 25% of the event; the threshold is 75%." in refused["detail"]
    granted = api.client.post(
        "/api/v1/certificates",
        json=manual | {"override_reason": "Attended the recording"},
        headers=owner.headers,
    )
    assert granted.status_code == 201, granted.text
    bobs = granted.json()
    assert (bobs["serial_number"], bobs["override_reason"]) == (
        "RSOE-000002",
        "Attended the recording",
    )
    assert_problem(
        api.client.post(
            "/api/v1/certificates", json=manual | {"override_reason": "x"}, headers=owner.headers
        ),
        409,
        "user_id",
    )
    assert eventually(lambda: api.sent_mail(bob.email, about="certificate"))

    revoked = api.client.post(
        f"/api/v1/certificates/{alices['id']}/revoke",
        json={"reason": "Issued in error"},
        headers=owner.headers,
    )
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["status"], revoked.json()["revoked_reason"]) == (
        "revoked",
        "Issued in error",
    )
    check = api.client.get(f"/api/v1/certificates/verify/{alices['verification_code']}").json()
    assert (check["valid"], check["status"], check["revoked_reason"]) == (
        False,
        "revoked",
        "Issued in error",
    )
    page = api.client.get(f"/verify/{alices['verification_code']}").text
    assert "This certificate was revoked" in page
    assert "Issued in error" in page
    assert_problem(
        api.client.post(
            f"/api/v1/certificates/{alices['id']}/revoke", json={"reason": "again"},
            headers=owner.headers,
        ),
        409,
    )  # fmt: skip
    assert_problem(
        api.client.post(f"/api/v1/certificates/{alices['id']}/reissue", headers=owner.headers),
        409,
    )

    reissued = api.client.post(
        f"/api/v1/certificates/{bobs['id']}/reissue",
        json={"holder_name": "Robert O'Brien"},
        headers=owner.headers,
    )
    assert reissued.status_code == 200, reissued.text
    again = reissued.json()
    assert (again["version"], again["verification_code"], again["serial_number"]) == (
        2,
        bobs["verification_code"],
        bobs["serial_number"],
    )
    pdf = api.client.get(again["download_url"], headers=bob.headers).content
    assert "Robert O'Brien" in pdf_text(pdf)
    assert eventually(lambda: len(api.sent_mail(bob.email, about="certificate")) == 2)


def test_bulk_issue_is_a_job_with_progress(course: Course) -> None:
    api, owner = course.api, course.owner
    early = api.client.post(f"{course.base}/certificates/issue", headers=owner.headers)
    assert_problem(early, 409, "status")  # not completed yet
    course.complete()
    eventually(course.certificates)
    started = api.client.post(f"{course.base}/certificates/issue", headers=owner.headers)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] in {"queued", "running", "completed"}
    finished = eventually(
        lambda: (
            found
            if (found := api.client.get(job["url"], headers=owner.headers).json())["status"]
            == "completed"
            else None
        )
    )
    assert finished["percent"] == 100
    assert (finished["total"], finished["failed"]) == (0, 0)  # Alice has hers already
    assert len(course.certificates()) == 1


def test_certificates_stay_inside_their_organization(course: Course) -> None:
    api = course.api
    course.complete()
    (certificate,) = eventually(course.certificates)
    path = f"/api/v1/certificates/{certificate['id']}"
    rival, member = course.rival, course.member
    for stranger in (rival, course.bob):
        assert_problem(api.client.get(path, headers=stranger.headers), 404)
        assert_problem(api.client.get(f"{path}/download", headers=stranger.headers), 404)
    for caller, status in ((rival, 404), (member, 403)):
        assert_problem(
            api.client.post(f"{path}/revoke", json={"reason": "x"}, headers=caller.headers),
            status,
        )
        assert_problem(api.client.post(f"{path}/reissue", headers=caller.headers), status)
        assert_problem(
            api.client.post(f"{course.base}/certificates/issue", headers=caller.headers), status
        )
        assert_problem(
            api.client.get(f"{course.base}/certificates", headers=caller.headers), status
        )
    manual = {
        "source": "event",
        "source_id": course.event["id"],
        "user_id": course.bob.id,
        "override_reason": "x",
    }
    for caller, status in ((rival, 404), (member, 403), (course.bob, 404)):
        assert_problem(
            api.client.post("/api/v1/certificates", json=manual, headers=caller.headers), status
        )
    job = api.client.post(f"{course.base}/certificates/issue", headers=course.owner.headers)
    assert_problem(api.client.get(job.json()["url"], headers=rival.headers), 404)
    assert api.client.get("/api/v1/certificates", headers=rival.headers).json()["items"] == []
    assert_problem(api.client.get(path), 401)
    assert_problem(api.client.get("/api/v1/certificates"), 401)


def test_a_configured_badge_comes_with_the_certificate_and_its_credential(
    course: Course,
) -> None:
    api, owner, alice = course.api, course.owner, course.alice
    png = tiny_png(16, 16)
    made = api.client.post(
        f"/api/v1/organizations/{course.org['id']}/badges",
        json={
            "name": "Ethics Practitioner",
            "description": "Completed the ethics day",
            "criteria": "Attend at least 75% of the day",
            "image": {"media_type": "image/png", "data": base64.b64encode(png).decode()},
            "awarded_for": [course.event["id"]],
        },
        headers=owner.headers,
    )
    assert made.status_code == 201, made.text
    badge = made.json()
    course.complete()
    (certificate,) = eventually(course.certificates)
    assert certificate["badge_ids"] == [badge["id"]]

    token = api.client.get(
        f"/api/v1/certificates/{certificate['id']}/credential", headers=alice.headers
    ).text
    jwks = api.client.get(
        f"/api/v1/organizations/{course.org['slug']}/.well-known/jwks.json"
    ).json()
    payload = verify_credential_jwt(token, jwks, now=course.clock.now())
    achievement = payload["credentialSubject"]["achievement"]
    assert (achievement["name"], achievement["image"]["id"]) == (
        "Ethics Practitioner",
        badge["image_url"],
    )
    assert achievement["creditsAvailable"] == 2.5
    # Every URL in it answers, anonymously: the achievement itself and the badge's image.
    served = api.client.get(urlsplit(achievement["id"]).path)
    assert served.status_code == 200, served.text
    assert served.json()["name"] == "Ethics Practitioner"
    assert served.json()["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert api.client.get(urlsplit(badge["image_url"]).path).content == png
    event_achievement = f"/organizations/{course.org['slug']}/achievements/{course.event['id']}"
    assert api.client.get(event_achievement).json()["name"] == course.event["title"]
    for unknown in (
        f"/organizations/{course.org['slug']}/achievements/{uuid.uuid4()}",
        f"/organizations/no-such-org/achievements/{course.event['id']}",
    ):
        assert_problem(api.client.get(unknown), 404)
    rival_org = api.client.get("/api/v1/organizations", headers=course.rival.headers).json()
    rival_slug = rival_org["items"][0]["slug"]
    for foreign in (course.event["id"], badge["id"]):  # not the rival's to describe
        assert_problem(api.client.get(f"/organizations/{rival_slug}/achievements/{foreign}"), 404)
    # Awarded, the badge stays: credentials name it and its image for good.
    badge_url = f"/api/v1/organizations/{course.org['id']}/badges/{badge['id']}"
    assert_problem(api.client.delete(badge_url, headers=owner.headers), 409, "badge_id")
    assert api.client.get(urlsplit(badge["image_url"]).path).status_code == 200


def test_attendance_corrected_after_completion_certifies_who_then_qualifies(
    course: Course,
) -> None:
    api, owner = course.api, course.owner
    course.complete()
    eventually(course.certificates)
    session = course.event["sessions"][0]["id"]
    corrected = api.client.post(
        f"{course.base}/sessions/{session}/attendance",
        headers=owner.headers,
        json={"attendees": [{"user_id": course.bob.id}]},  # Bob was there after all
    )
    assert corrected.status_code == 200, corrected.text
    both = eventually(lambda: len(course.certificates()) == 2 and course.certificates())
    assert sorted(c["serial_number"] for c in both) == ["RSOE-000001", "RSOE-000002"]
    assert eventually(lambda: api.sent_mail(course.bob.email, about="certificate"))


def test_a_certificate_whose_template_fails_for_its_holder_answers_503(course: Course) -> None:
    """The template passed its upload check (sample data) and fails for Alice's name only: her
    download answers 503 with Retry-After and the reason, instead of an error of hers."""
    api, alice = course.api, course.alice
    fragile = '#let certificate(c) = { if c.holder_name.contains("Żółć") { panic("no") }; [x] }'
    created = api.client.post(
        f"/api/v1/organizations/{course.org['id']}/certificate-templates",
        json={"name": "Fragile", "source": fragile, "is_default": True},
        headers=course.owner.headers,
    )
    assert created.status_code == 201, created.text
    course.complete()
    (certificate,) = eventually(lambda: course.certificates())
    download = api.client.get(certificate["download_url"], headers=alice.headers)
    body = assert_problem(download, 503)
    assert int(download.headers["retry-after"]) > 0
    assert "panicked with: no" in body["detail"]
