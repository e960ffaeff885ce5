"""The verification page in a real browser: headless Chromium, sized and behaving as a phone.

What a person scanning the QR code sees must be readable without zooming or scrolling
sideways, for valid and revoked certificates and for long names. Needs Debian's ``chromium``
and ``chromium-driver`` (installed by .ci/run); skipped without them unless
CPD_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from tests.support.browser import chromium, served
from tests.support.settings import make_settings

from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Organization, User
from cpd.domain.certificates import Activity, Certificate, CertificateSource, Holder
from cpd.domain.ids import new_id
from cpd.entrypoints.http.app import create_app

PHONE = {"width": 390, "height": 844, "pixelRatio": 3.0}  # an iPhone 12-sized screen


@dataclass
class Site:
    container: Container
    base_url: str
    loop: asyncio.AbstractEventLoop

    def run(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=30)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """The app served over real HTTP (uvicorn in a thread) on memory adapters."""
    container = build_container(make_settings())
    with served(create_app(container)) as (base_url, loop):
        yield Site(container, base_url, loop)


@pytest.fixture(scope="module")
def phone() -> Iterator[Any]:
    def as_a_phone(options: Any) -> None:
        options.add_experimental_option(
            "mobileEmulation",
            {
                "deviceMetrics": PHONE,
                "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile",
            },
        )

    with chromium(configure=as_a_phone) as driver:
        yield driver


async def _certificate(container: Container, holder: str, title: str) -> Certificate:
    now = datetime(2026, 4, 3, 10, tzinfo=UTC)
    organization = Organization(
        id=new_id(),
        name="Royal Society of Continuing Education",
        slug=f"rsce-{new_id().hex[:8]}",
        created_at=now,
        updated_at=now,
    )
    user_id = new_id()
    async with container.uow() as uow:
        await uow.users.add(
            User(
                id=user_id,
                email=f"{user_id.hex}@example.org",
                password_hash="x",
                first_name="A",
                last_name="B",
                created_at=now,
                updated_at=now,
            )
        )
        await uow.organizations.add(organization)
        sequence = await uow.certificates.reserve_sequences(organization.id, 1)
        certificate = Certificate.issue(
            organization_id=organization.id,
            organization_slug=organization.slug,
            holder=Holder(user_id, holder),
            activity=Activity(
                source=CertificateSource.EVENT,
                source_id=new_id(),
                title=title,
                cpd_credits=Decimal("12.5"),
                credit_category="Category 1 (external)",
                starts_on=now.date(),
            ),
            sequence=sequence,
            now=now,
        )
        await uow.certificates.add(certificate)
        await uow.commit()
    return certificate


def _layout(driver: Any) -> dict[str, Any]:
    return dict(
        driver.execute_script(
            """
            const text = (id) => document.getElementById(id)?.innerText ?? null;
            const body = getComputedStyle(document.body);
            const status = getComputedStyle(document.getElementById('status'));
            return {
              innerWidth: window.innerWidth,
              scrollWidth: document.documentElement.scrollWidth,
              fontSize: parseFloat(body.fontSize),
              holder: text('holder'), status: text('status'), title: text('title'),
              credits: text('credits'), code: text('code'), reason: text('revoked-reason'),
              statusColour: status.backgroundColor,
              scripts: document.scripts.length,
            };
            """
        )
    )


def test_a_valid_certificate_reads_well_on_a_phone(site: Site, phone: Any) -> None:
    certificate = site.run(
        _certificate(site.container, "Αλέξανδρος Мария Żółć", "Clinical governance in practice")
    )
    phone.get(f"{site.base_url}/verify/{certificate.verification_code.lower()}")
    page = _layout(phone)
    assert page["innerWidth"] == PHONE["width"]  # the viewport meta tag took effect
    assert page["scrollWidth"] <= page["innerWidth"]  # nothing to scroll sideways
    assert page["fontSize"] >= 16
    assert page["holder"] == "Αλέξανδρος Мария Żółć"
    assert page["status"].startswith("Valid certificate")
    assert page["statusColour"] == "rgb(20, 108, 46)"  # green
    assert page["credits"] == "12.5 (Category 1 (external))"
    assert page["code"] == certificate.verification_code
    assert page["scripts"] == 0
    assert "Valid certificate" in phone.title


def test_a_revoked_certificate_says_so_and_why(site: Site, phone: Any) -> None:
    long_title = "Advanced " + "Interprofessional" * 6 + " Practice: Risk, Audit and Safety"
    certificate = site.run(_certificate(site.container, "Zoë O'Brien", long_title))

    async def revoke() -> None:
        async with site.container.uow() as uow:
            found = await uow.certificates.get(certificate.id)
            assert found is not None
            found.revoke("Attendance records were corrected", now=datetime.now(UTC))
            await uow.certificates.save(found)
            await uow.commit()

    site.run(revoke())
    phone.get(f"{site.base_url}/verify/{certificate.verification_code}")
    page = _layout(phone)
    assert page["status"].startswith("This certificate was revoked")
    assert "Attendance records were corrected" in page["reason"]
    assert page["statusColour"] == "rgb(164, 22, 26)"  # red
    assert page["scrollWidth"] <= page["innerWidth"]  # a long unbroken word wraps
    assert page["holder"] == "Zoë O'Brien"


def test_an_unknown_code_is_a_clear_page_not_an_error(site: Site, phone: Any) -> None:
    phone.get(f"{site.base_url}/verify/0000-0000-0000-0000-00")
    page = _layout(phone)
    assert page["status"].startswith("No certificate has this code")
    assert page["scrollWidth"] <= page["innerWidth"]
