"""Issued certificates, their serials and status positions, templates, badges and jobs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpd.domain.certificate_design import (
    Badge,
    BadgeImage,
    CertificateTemplate,
    check_template_source,
)
from cpd.domain.certificates import (
    Activity,
    Certificate,
    CertificateSource,
    CertificateStatus,
    Holder,
    Logo,
    Verification,
    serial_number,
    status_position,
)
from cpd.domain.credentials import MIN_STATUS_LIST_BITS
from cpd.domain.errors import Conflict, InvalidInput
from cpd.domain.ids import new_id
from cpd.domain.jobs import MAX_JOB_ERRORS, Job, JobStatus

NOW = datetime(2026, 4, 3, 10, tzinfo=UTC)
ORG = new_id()


def certificate(**changes: object) -> Certificate:
    values: dict[str, object] = {
        "organization_id": ORG,
        "organization_slug": "royal-society-of-ethics",
        "holder": Holder(new_id(), "Łukasz Żółć", "GMC 1234567"),
        "activity": Activity(
            source=CertificateSource.EVENT,
            source_id=new_id(),
            title="Ethics in practice",
            cpd_credits=Decimal("2.5"),
            credit_category="Category 1",
            starts_on=date(2026, 3, 30),
            ends_on=date(2026, 4, 2),
        ),
        "sequence": 7,
        "now": NOW,
    } | changes
    return Certificate.issue(**values)  # type: ignore[arg-type]


def test_a_new_certificate_takes_its_serial_and_a_fresh_code() -> None:
    first, second = certificate(), certificate(sequence=8)
    assert (first.serial_number, second.serial_number) == ("RSOE-000007", "RSOE-000008")
    assert first.verification_code != second.verification_code
    assert (first.version, first.status, first.is_valid) == (1, CertificateStatus.ISSUED, True)
    assert first.filename == "certificate-RSOE-000007.pdf"
    assert first.storage_key == f"certificates/{ORG}/{first.id}-v1.pdf"


def test_serials_use_the_slugs_initials() -> None:
    assert serial_number("acme", 1) == "A-000001"
    assert serial_number("a-b-c-d-e-f-g-h", 1_234_567) == "ABCDEF-1234567"


def test_what_a_certificate_prints_comes_from_its_holder_and_activity() -> None:
    issued = certificate()
    logo = Logo(b"<svg/>", "image/svg+xml")
    fields = issued.fields(
        organization_name="Royal Society of Ethics",
        verification_url="https://cpd.example.org/verify/X",
        logo=logo,
        signatory_name="Dr Jane Roe",
        signatory_title="Registrar",
    )
    assert (fields.holder_name, fields.registration_number) == ("Łukasz Żółć", "GMC 1234567")
    assert (fields.serial_number, fields.verification_code) == (
        issued.serial_number,
        issued.verification_code,
    )
    assert fields.dates_text == "30 March \u2013 2 April 2026"
    assert (fields.issued_on, fields.logo, fields.signatory_title) == (
        date(2026, 4, 3),
        logo,
        "Registrar",
    )


def test_revoking_keeps_the_reason_and_happens_once() -> None:
    issued = certificate()
    with pytest.raises(InvalidInput) as blank:
        issued.revoke("  ", now=NOW)
    assert blank.value.field == "reason"
    issued.revoke(" Issued in error ", now=NOW + timedelta(days=1))
    assert (issued.status, issued.revoked_reason, issued.is_valid) == (
        CertificateStatus.REVOKED,
        "Issued in error",
        False,
    )
    with pytest.raises(Conflict):
        issued.revoke("again", now=NOW)
    with pytest.raises(Conflict):
        issued.reissue(now=NOW)


def test_reissuing_keeps_code_and_serial_and_moves_to_a_new_file() -> None:
    issued = certificate()
    issued.rendered(issued.storage_key)
    old_key, code = issued.storage_key, issued.verification_code
    corrected = Holder(issued.holder.user_id, "Lukasz Zolc")
    issued.reissue(now=NOW + timedelta(days=2), holder=corrected)
    assert (issued.version, issued.verification_code, issued.holder.name) == (
        2,
        code,
        "Lukasz Zolc",
    )
    assert issued.pdf_key is None
    assert issued.storage_key != old_key
    with pytest.raises(InvalidInput):
        issued.reissue(now=NOW, holder=Holder(new_id(), "Someone Else"))
    other = Activity(
        CertificateSource.COURSE, new_id(), "Other", Decimal(1), completed_on=NOW.date()
    )
    with pytest.raises(InvalidInput):
        issued.reissue(now=NOW, activity=other)


def test_an_override_needs_words_and_a_holder_a_name() -> None:
    with pytest.raises(InvalidInput) as error:
        certificate(override_reason=" ")
    assert error.value.field == "override_reason"
    assert certificate(override_reason=" Late paperwork ").override_reason == "Late paperwork"
    with pytest.raises(InvalidInput):
        Holder(new_id(), "   ")


def test_verification_says_only_what_is_printed() -> None:
    issued = certificate()
    issued.revoke("Duplicate", now=NOW)
    shown = Verification.of(issued, "Royal Society of Ethics")
    assert (shown.valid, shown.revoked_reason, shown.holder_name) == (
        False,
        "Duplicate",
        "Łukasz Żółć",
    )
    assert not hasattr(shown, "holder_id")


@given(st.integers(min_value=1, max_value=4 * MIN_STATUS_LIST_BITS))
def test_status_positions_fill_lists_in_turn(sequence: int) -> None:
    list_number, index = status_position(sequence)
    assert list_number == (sequence - 1) // MIN_STATUS_LIST_BITS + 1
    assert 0 <= index < MIN_STATUS_LIST_BITS


def test_status_positions_are_a_scattered_permutation() -> None:
    """Every certificate of a list gets its own bit, and neighbours are not neighbours."""
    indexes = [status_position(n)[1] for n in range(1, MIN_STATUS_LIST_BITS + 1)]
    assert len(set(indexes)) == MIN_STATUS_LIST_BITS
    assert indexes[:3] != [0, 1, 2]
    assert abs(indexes[1] - indexes[2]) > 1000
    with pytest.raises(InvalidInput):
        status_position(0)


def test_templates_refuse_remote_packages_and_junk() -> None:
    assert check_template_source("#let certificate(c) = [x]") == b"#let certificate(c) = [x]"
    with pytest.raises(InvalidInput, match="line 2"):
        check_template_source('#let a = 1\n#import "@preview/cetz:0.3.0"\n')
    for junk in (b"", b"  ", b"\xff\xfe", b"x" * (512 * 1024 + 1), 42):
        with pytest.raises(InvalidInput) as error:
            check_template_source(junk)
        assert error.value.field == "source"


def test_a_template_is_named_and_edited_field_by_field() -> None:
    with pytest.raises(InvalidInput) as error:
        CertificateTemplate.create(organization_id=ORG, now=NOW, details={"name": "x"})
    assert error.value.field == "source"
    template = CertificateTemplate.create(
        organization_id=ORG,
        now=NOW,
        details={"name": " Gold ", "source": "#let certificate(c) = []", "is_default": True},
    )
    assert (template.name, template.is_default) == ("Gold", True)
    template.update({"signatory_name": "Dr Roe", "logo": None}, now=NOW + timedelta(hours=1))
    assert (template.signatory_name, template.updated_at) == ("Dr Roe", NOW + timedelta(hours=1))
    with pytest.raises(InvalidInput) as not_an_image:
        template.update({"logo": b"png bytes"}, now=NOW)
    assert not_an_image.value.field == "logo"
    with pytest.raises(InvalidInput) as unknown:
        template.update({"colour": "red"}, now=NOW)
    assert unknown.value.field == "colour"


def test_a_badge_needs_its_words_and_a_proper_image() -> None:
    event = new_id()
    badge = Badge.create(
        organization_id=ORG,
        now=NOW,
        details={
            "name": "Ethics",
            "description": "Ethics in practice",
            "criteria": "Attend 75%",
            "awarded_for": [event, event],
            "image": BadgeImage(b"\x89PNG...", "image/png"),
        },
    )
    assert badge.awarded_for == (event,)
    with pytest.raises(InvalidInput) as missing:
        Badge.create(organization_id=ORG, now=NOW, details={"name": "x", "description": "y"})
    assert missing.value.field == "criteria"
    with pytest.raises(InvalidInput):
        BadgeImage(b"GIF89a", "image/gif")
    with pytest.raises(InvalidInput):
        badge.update({"name": " "}, now=NOW)
    for field, junk in (("awarded_for", "not-a-list"), ("awarded_for", [1]), ("image", b"png")):
        with pytest.raises(InvalidInput) as refused:
            badge.update({field: junk}, now=NOW)
        assert refused.value.field == field


def test_a_job_counts_progress_and_keeps_a_bounded_error_list() -> None:
    job = Job.queue("event_certificates", organization_id=ORG, subject_id=new_id(), now=NOW,
                    created_by=None)  # fmt: skip
    assert (job.status, job.percent) == (JobStatus.QUEUED, 0)
    job.start(4, now=NOW)
    job.progress(done=1)
    assert (job.status, job.percent) == (JobStatus.RUNNING, 25)
    job.progress(done=2, failed=1, errors=tuple(f"e{n}" for n in range(MAX_JOB_ERRORS + 5)))
    assert len(job.errors) == MAX_JOB_ERRORS
    job.finish(now=NOW)
    assert (job.status, job.percent) == (JobStatus.FAILED, 100)
    job.start(0, now=NOW)  # a rerun starts its counts again
    assert (job.done, job.errors) == (0, ())
    job.finish(now=NOW)
    assert (job.status, job.percent) == (JobStatus.COMPLETED, 100)
    job.fail("The event no longer exists.", now=NOW)
    assert job.status is JobStatus.FAILED
