"""Refund policies through the API: an organization's (staff read, org_admin sets), an event's
override, the snapshot a paid registration keeps, and tenants kept apart."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, Caller, assert_problem

STANDARD = {
    "tiers": [
        {"before_start_hours": 336, "percent": 100},
        {"before_start_hours": 48, "percent": 50},
    ],
    "fee": 0,
    "refunds": True,
}
GBP25 = {"amount": 2500, "currency": "GBP"}


def _policy_url(org: dict[str, Any]) -> str:
    return f"/api/v1/organizations/{org['id']}/refund-policy"


def _host(api: Api) -> tuple[Caller, dict[str, Any]]:
    admin = api.user()
    return admin, api.organization(admin, f"Host {admin.email}")


def test_an_organization_starts_with_the_standard_policy_and_its_admin_sets_another(
    api: Api,
) -> None:
    admin, org = _host(api)
    staff, member = api.user(), api.user()
    api.add_member(org, admin, staff, "org_staff")
    api.add_member(org, admin, member, "member")
    url = _policy_url(org)

    assert api.client.get(url, headers=admin.headers).json() == STANDARD
    assert api.client.get(url, headers=staff.headers).json() == STANDARD
    assert_problem(api.client.get(url, headers=member.headers), 403)
    assert api.client.get(url).status_code == 401

    days = {"tiers": [{"before_start_days": 7, "percent": 80}], "fee": 300}
    assert_problem(api.client.put(url, json=days, headers=staff.headers), 403)
    changed = api.client.put(url, json=days, headers=admin.headers)
    assert changed.status_code == 200, changed.text
    expected = {"tiers": [{"before_start_hours": 168, "percent": 80}], "fee": 300, "refunds": True}
    assert changed.json() == expected
    assert api.client.get(url, headers=staff.headers).json() == expected

    none = api.client.put(url, json={"tiers": []}, headers=admin.headers).json()
    assert none == {"tiers": [], "fee": 0, "refunds": False}


def test_another_organizations_admin_sees_nothing(api: Api) -> None:
    _, org = _host(api)
    outsider, _ = _host(api)
    url = _policy_url(org)
    assert_problem(api.client.get(url, headers=outsider.headers), 404)
    assert_problem(api.client.put(url, json={"tiers": []}, headers=outsider.headers), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tiers": [{"before_start_hours": 10, "percent": 101}]}, "tiers.0.percent"),
        ({"tiers": [{"before_start_hours": -1, "percent": 10}]}, "tiers.0.before_start_hours"),
        (
            {"tiers": [{"before_start_hours": 10**9, "percent": 10}]},
            "tiers.0.before_start_hours",
        ),
        (
            {
                "tiers": [
                    {"before_start_hours": 24, "percent": 50},
                    {"before_start_hours": 48, "percent": 40},
                ]
            },
            "refund_policy.tiers.1.before_start_hours",
        ),
        (
            {
                "tiers": [
                    {"before_start_hours": 48, "percent": 40},
                    {"before_start_hours": 24, "percent": 50},
                ]
            },
            "refund_policy.tiers.1.percent",
        ),
        (
            {"tiers": [{"before_start_hours": 48, "before_start_days": 2, "percent": 40}]},
            "refund_policy.tiers.0",
        ),
        ({"tiers": [{"percent": 40}]}, "refund_policy.tiers.0"),
        ({"tiers": [{"before_start_hours": h, "percent": 0} for h in range(11)]}, "tiers"),
        ({"tiers": [], "fee": -1}, "fee"),
        ({"tiers": [], "fee": 10**12}, "fee"),
        ({"tiers": [], "colour": "red"}, "colour"),
        ({"fee": 0}, "tiers"),
    ],
)
def test_a_bad_policy_is_a_400_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    admin, org = _host(api)
    response = api.client.put(_policy_url(org), json=body, headers=admin.headers)
    problem = assert_problem(response, 400)
    assert field in str(problem), problem


def test_a_paid_registration_keeps_the_policy_it_was_bought_under(api: Api) -> None:
    admin, org = _host(api)
    url = _policy_url(org)
    bought = {"tiers": [{"before_start_days": 30, "percent": 50}], "fee": 200}
    assert api.client.put(url, json=bought, headers=admin.headers).status_code == 200
    event = api.event(admin, org, price=GBP25, capacity=10)
    buyer = api.user()
    registration = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]}, headers=buyer.headers
    ).json()
    mine = f"/api/v1/registrations/{registration['id']}"
    held = api.client.get(mine, headers=buyer.headers).json()
    assert held["refund_policy"]["tiers"] == [{"before_start_hours": 720, "percent": 50}]
    assert held["refund_if_cancelled"] == {"amount": 0, "currency": "GBP"}  # nothing paid yet
    paid = api.client.post(f"{mine}/pay", json={"card_token": "tok_visa"}, headers=buyer.headers)
    assert paid.status_code == 200, paid.text

    # The organization changes its mind: what was bought stays.
    assert api.client.put(url, json={"tiers": []}, headers=admin.headers).status_code == 200
    shown = api.client.get(mine, headers=buyer.headers).json()
    assert shown["refund_policy"] == {
        "tiers": [{"before_start_hours": 720, "percent": 50}],
        "fee": 200,
        "refunds": True,
    }
    assert shown["refund_if_cancelled"] == {"amount": 1050, "currency": "GBP"}  # 1250 - 200
    cancelled = api.client.post(f"{mine}/cancel", headers=buyer.headers).json()
    assert cancelled["refund"]["amount"] == {"amount": 1050, "currency": "GBP"}
    after = api.client.get(mine, headers=buyer.headers).json()
    assert after["refund_if_cancelled"] is None


def test_an_event_overrides_its_organizations_policy_until_cleared(api: Api) -> None:
    admin, org = _host(api)
    own = {"tiers": [{"before_start_hours": 1, "percent": 100}], "fee": 0}
    event = api.event(admin, org, price=GBP25, refund_policy=own)
    url = f"/api/v1/events/{event['id']}/refund-policy"
    assert api.client.get(url).json() == own | {"refunds": True}  # public, as the event is

    events = f"/api/v1/events/{event['id']}"
    cleared = api.client.patch(events, json={"refund_policy": None}, headers=admin.headers)
    assert cleared.status_code == 200, cleared.text
    assert api.client.get(url).json() == STANDARD

    bad = {"refund_policy": {"tiers": [{"before_start_hours": 1, "percent": 300}]}}
    assert_problem(api.client.patch(events, json=bad, headers=admin.headers), 400)
    outsider, _ = _host(api)
    again = {"refund_policy": own}
    assert_problem(api.client.patch(events, json=again, headers=outsider.headers), 404)
    assert api.client.get(url).json() == STANDARD


def test_a_drafts_policy_is_only_for_its_staff(api: Api) -> None:
    admin, org = _host(api)
    draft = api.event(admin, org, publish=False)
    url = f"/api/v1/events/{draft['id']}/refund-policy"
    assert api.client.get(url, headers=admin.headers).json() == STANDARD
    assert_problem(api.client.get(url), 404)
    assert_problem(api.client.get(url, headers=api.user().headers), 404)
