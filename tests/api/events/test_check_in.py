"""Check-in codes a person can read out, typed any way, and the registrant's QR code of it."""

from __future__ import annotations

import re
from dataclasses import replace
from uuid import UUID

from tests.api.conftest import Api, assert_problem
from tests.api.registrations.test_registrations import (
    CHECK_IN_CODE,
    _event,
    _register,
    _running_event,
)
from tests.unit.events.test_check_in_codes import decode_svg_qr


def test_a_code_is_accepted_in_any_case_with_or_without_the_dash(api: Api) -> None:
    owner, event = _running_event(api, capacity=None)
    people = [api.user() for _ in range(3)]
    codes = [_register(api, p, event)["check_in_code"] for p in people]
    assert all(re.fullmatch(CHECK_IN_CODE, code) for code in codes)
    typed = [codes[0].lower().replace("-", ""), f" {codes[1][:4]} {codes[1][5:]} ", codes[2]]
    url = f"/api/v1/events/{event['id']}/check-in"
    for code in typed:
        checked = api.client.post(url, json={"code": code}, headers=owner.headers)
        assert checked.status_code == 200, checked.text
    assert_problem(api.client.post(url, json={"code": "ZZZZ-ZZZZ"}, headers=owner.headers), 404)


def test_a_code_from_before_the_short_format_still_checks_in(api: Api) -> None:
    owner, event = _running_event(api, capacity=None)
    registration = _register(api, api.user(), event)
    legacy = "aB3_-x9Yz0QwErTy"  # what secrets.token_urlsafe(12) gave

    async def give_legacy_code() -> None:
        async with api.container.uow() as uow:
            stored = await uow.registrations.get(UUID(registration["id"]))
            assert stored is not None
            await uow.registrations.save(replace(stored, check_in_code=legacy))
            await uow.commit()

    api.client.blocking_portal.call(give_legacy_code)
    url = f"/api/v1/events/{event['id']}/check-in"
    assert_problem(api.client.post(url, json={"code": legacy.upper()}, headers=owner.headers), 404)
    checked = api.client.post(url, json={"code": f" {legacy} "}, headers=owner.headers)
    assert checked.status_code == 200, checked.text
    assert checked.json()["registration_id"] == registration["id"]


def test_the_registrant_gets_their_code_as_a_qr_code_and_nobody_else_does(api: Api) -> None:
    owner, event = _event(api, capacity=1)
    holder, waiting = api.user(), api.user()
    mine = _register(api, holder, event)
    queued = _register(api, waiting, event)
    url = f"/api/v1/registrations/{mine['id']}/check-in.svg"
    shown = api.client.get(url, headers=holder.headers)
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"].startswith("image/svg+xml")
    assert shown.headers["cache-control"] == "private, no-store"
    assert decode_svg_qr(shown.content) == [mine["check_in_code"]]

    rival = api.user()
    api.organization(rival, "Rival Society")
    for outsider in (waiting, owner, rival):  # another person, the event's staff, other staff
        assert_problem(api.client.get(url, headers=outsider.headers), 404)
    assert api.client.get(url).status_code == 401
    waiting_url = f"/api/v1/registrations/{queued['id']}/check-in.svg"
    assert_problem(api.client.get(waiting_url, headers=waiting.headers), 409)
