"""Certificate templates and badges over HTTP: upload checks, previews, one default per
organization, public badge images, and the tenant line."""

from __future__ import annotations

import base64
import io
from typing import Any
from uuid import UUID, uuid4

import pypdf
import pytest

from cpd.adapters.documents.typst_certificates import DEFAULT_TEMPLATE
from cpd.domain.certificates import sample_fields
from tests.api.conftest import Api, Caller, assert_problem
from tests.support.samples import tiny_png

CUSTOM = """#set page(width: 16cm, height: 10cm)
#let certificate(c) = [
  #c.holder_name earned #c.cpd_credits credits from #c.organization_name.
  #if c.signatory_name != none [Signed: #c.signatory_name]
  #if c.logo != none { image(bytes(c.logo), format: "svg", height: 1cm) }
]
"""
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
    b'<circle r="9" cx="10" cy="10"/></svg>'
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def templates_url(org: dict[str, Any]) -> str:
    return f"/api/v1/organizations/{org['id']}/certificate-templates"


def badges_url(org: dict[str, Any]) -> str:
    return f"/api/v1/organizations/{org['id']}/badges"


def make_template(api: Api, caller: Caller, org: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"name": "Plain", "source": CUSTOM} | fields
    response = api.client.post(templates_url(org), json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def make_badge(api: Api, caller: Caller, org: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Governance",
        "description": "Completed governance training.",
        "criteria": "Attend the whole day.",
    } | fields
    response = api.client.post(badges_url(org), json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def make_course(api: Api, caller: Caller, org: dict[str, Any]) -> dict[str, Any]:
    body = {"organization_id": org["id"], "title": "Risk management"}
    response = api.client.post("/api/v1/courses", json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def owner(api: Api) -> Caller:
    return api.user()


@pytest.fixture
def org(api: Api, owner: Caller) -> dict[str, Any]:
    return api.organization(owner)


# -- Templates ---------------------------------------------------------------------------------


def test_the_shipped_default_and_a_custom_template_are_stored_and_previewed(
    api: Api, owner: Caller, org: dict[str, Any]
) -> None:
    default = make_template(
        api,
        owner,
        org,
        name="Our classic",
        source=DEFAULT_TEMPLATE.decode(),
        logo={"media_type": "image/png", "data": b64(tiny_png(40, 20))},
        signatory_name="Dr Jane Roe",
        signatory_title="Dean of Studies",
        is_default=True,
    )
    assert default["logo"] == {"media_type": "image/png", "size": len(tiny_png(40, 20))}
    assert (default["source_size"], default["is_default"]) == (len(DEFAULT_TEMPLATE), True)
    assert "source" not in default
    custom = make_template(api, owner, org, name="A plain one")

    listed = api.client.get(templates_url(org), headers=owner.headers)
    assert listed.status_code == 200, listed.text
    assert [t["name"] for t in listed.json()["items"]] == ["A plain one", "Our classic"]
    assert all("source" not in t for t in listed.json()["items"])
    assert listed.json()["total"] == 2
    second_page = api.client.get(f"{templates_url(org)}?limit=1&offset=1", headers=owner.headers)
    assert [t["name"] for t in second_page.json()["items"]] == ["Our classic"]
    one = api.client.get(f"{templates_url(org)}/{custom['id']}", headers=owner.headers).json()
    assert one["source"] == CUSTOM
    assert one["source_size"] == len(CUSTOM.encode())

    preview = api.client.get(f"{templates_url(org)}/{default['id']}/preview", headers=owner.headers)
    assert preview.status_code == 200, preview.text
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.headers["cache-control"] == "private, no-store"
    (text,) = pdf_pages(preview.content)  # exactly one page
    assert "Dr Jane Roe" in text
    assert sample_fields().serial_number in text

    plain = api.client.get(f"{templates_url(org)}/{custom['id']}/preview", headers=owner.headers)
    (text,) = pdf_pages(plain.content)
    assert "earned 12.5 credits from Royal Society" in text.replace("\n", " ")
    assert "Signed:" not in text  # this template has no signatory: its certificates neither


def test_the_product_default_previews_as_one_page(
    api: Api, owner: Caller, org: dict[str, Any]
) -> None:
    preview = api.client.get(f"{templates_url(org)}/default/preview", headers=owner.headers)
    assert preview.status_code == 200, preview.text
    assert preview.headers["content-type"] == "application/pdf"
    (text,) = pdf_pages(preview.content)
    assert "Certificate of Completion" in text


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("#let certificate(c) = [\n  #c.holder_name\n  #set text(size: 1pt\n]", "line 3"),
        ("#let certificate(c) = [\n\n#c.no_such_field]", "line 3"),
        ('#import "@preview/cetz:0.3.2"\n#let certificate(c) = [x]', "line 1"),
        ("#let nothing = 1", "certificate"),
        ("#let certificate(c) = [a #pagebreak() b]", "exactly one"),
        # Every certificate must work, also one without the optional fields
        ("#let certificate(c) = [#c.credit_category.len()]", "no registration number"),
    ],
)
def test_a_template_that_does_not_compile_is_refused_with_its_line(
    api: Api, owner: Caller, org: dict[str, Any], source: str, says: str
) -> None:
    response = api.client.post(
        templates_url(org), json={"name": "Broken", "source": source}, headers=owner.headers
    )
    problem = assert_problem(response, 400, "source")
    assert says in problem["detail"]
    assert api.client.get(templates_url(org), headers=owner.headers).json()["items"] == []


def test_only_one_template_is_the_default(api: Api, owner: Caller, org: dict[str, Any]) -> None:
    first = make_template(api, owner, org, name="First", is_default=True)
    second = make_template(api, owner, org, name="Second", is_default=True)
    other_org = api.organization(owner, name="Other College")
    elsewhere = make_template(api, owner, other_org, name="Elsewhere", is_default=True)

    def defaults(organization: dict[str, Any]) -> list[str]:
        found = api.client.get(templates_url(organization), headers=owner.headers).json()
        return [t["id"] for t in found["items"] if t["is_default"]]

    assert defaults(org) == [second["id"]]
    changed = api.client.patch(
        f"{templates_url(org)}/{first['id']}", json={"is_default": True}, headers=owner.headers
    )
    assert changed.status_code == 200, changed.text
    assert defaults(org) == [first["id"]]
    assert defaults(other_org) == [elsewhere["id"]]  # another organization's default stays


def test_changes_are_checked_like_uploads(api: Api, owner: Caller, org: dict[str, Any]) -> None:
    template = make_template(api, owner, org)
    url = f"{templates_url(org)}/{template['id']}"

    broken = api.client.patch(
        url, json={"source": "#let certificate(c) = [#c.nope"}, headers=owner.headers
    )
    assert "line 1" in assert_problem(broken, 400, "source")["detail"]
    truncated = {"media_type": "image/png", "data": b64(tiny_png()[:-20])}
    assert_problem(
        api.client.patch(url, json={"logo": truncated}, headers=owner.headers), 400, "logo"
    )
    not_svg = {"media_type": "image/svg+xml", "data": b64(b"<svg")}
    assert_problem(
        api.client.patch(url, json={"logo": not_svg}, headers=owner.headers), 400, "logo"
    )
    assert api.client.get(url, headers=owner.headers).json()["source"] == CUSTOM  # unchanged

    svg_logo = {"media_type": "image/svg+xml", "data": b64(SVG)}
    changed = api.client.patch(
        url,
        json={"name": "Renamed", "logo": svg_logo, "signatory_name": "Ann Lee"},
        headers=owner.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["logo"]["media_type"], body["signatory_name"]) == (
        "Renamed",
        "image/svg+xml",
        "Ann Lee",
    )
    assert body["updated_at"] >= template["updated_at"]
    (text,) = pdf_pages(api.client.get(f"{url}/preview", headers=owner.headers).content)
    assert "Signed: Ann Lee" in text

    cleared = api.client.patch(
        url, json={"logo": None, "signatory_name": None}, headers=owner.headers
    )
    assert (cleared.json()["logo"], cleared.json()["signatory_name"]) == (None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"logo": {"media_type": "image/png", "data": "not base64!"}}, "logo.data"),
        ({"logo": {"media_type": "image/bmp", "data": "AAAA"}}, "logo.media_type"),
        ({"logo": {"media_type": "image/png", "data": b64(b"a PNG? no")}}, "logo"),
        ({"name": "  "}, "name"),
        ({"source": ""}, "source"),
        ({"signatory_name": "W" * 121}, "signatory_name"),
    ],
)
def test_bad_template_fields_are_named(
    api: Api, owner: Caller, org: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    upload = {"name": "Plain", "source": CUSTOM} | body
    assert_problem(
        api.client.post(templates_url(org), json=upload, headers=owner.headers), 400, field
    )


def test_a_patch_with_an_unknown_field_is_refused(
    api: Api, owner: Caller, org: dict[str, Any]
) -> None:
    template = make_template(api, owner, org)
    badge = make_badge(api, owner, org)
    for url in (f"{templates_url(org)}/{template['id']}", f"{badges_url(org)}/{badge['id']}"):
        problem = assert_problem(
            api.client.patch(url, json={"colour": "red"}, headers=owner.headers), 400
        )
        assert "colour" in problem["detail"]


def test_a_deleted_template_is_gone(api: Api, owner: Caller, org: dict[str, Any]) -> None:
    template = make_template(api, owner, org, is_default=True)
    url = f"{templates_url(org)}/{template['id']}"
    assert api.client.delete(url, headers=owner.headers).status_code == 204
    assert_problem(api.client.get(url, headers=owner.headers), 404)
    assert_problem(api.client.get(f"{url}/preview", headers=owner.headers), 404)
    assert_problem(api.client.delete(url, headers=owner.headers), 404)
    assert api.client.get(templates_url(org), headers=owner.headers).json()["items"] == []


# -- Badges ------------------------------------------------------------------------------------


def test_badge_lifecycle_with_a_public_image(api: Api, owner: Caller, org: dict[str, Any]) -> None:
    event = api.event(owner, org)
    course = make_course(api, owner, org)
    png = tiny_png(16, 16)
    badge = make_badge(
        api,
        owner,
        org,
        image={"media_type": "image/png", "data": b64(png)},
        awarded_for=[event["id"], course["id"], event["id"]],
    )
    assert badge["awarded_for"] == [event["id"], course["id"]]  # once each
    assert badge["image"] == {"media_type": "image/png", "size": len(png)}
    base_url = api.container.settings.public_base_url.rstrip("/")
    assert badge["image_url"] == f"{base_url}/api/v1/badges/{badge['id']}/image"
    url = f"{badges_url(org)}/{badge['id']}"
    assert api.client.get(url, headers=owner.headers).json() == badge

    image = api.client.get(f"/api/v1/badges/{badge['id']}/image")  # anyone
    assert image.status_code == 200
    assert image.content == png
    assert image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"] == "public, max-age=300"
    again = api.client.get(
        f"/api/v1/badges/{badge['id']}/image", headers={"If-None-Match": image.headers["etag"]}
    )
    assert (again.status_code, again.content) == (304, b"")

    plain = make_badge(api, owner, org, name="Attendance")
    assert (plain["image"], plain["image_url"], plain["awarded_for"]) == (None, None, [])
    page = api.client.get(f"{badges_url(org)}?limit=1", headers=owner.headers).json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 0)
    assert [b["name"] for b in page["items"]] == ["Attendance"]

    svg = api.client.patch(
        url,
        json={"image": {"media_type": "image/svg+xml", "data": b64(SVG)}, "awarded_for": []},
        headers=owner.headers,
    )
    assert svg.status_code == 200, svg.text
    assert svg.json()["awarded_for"] == []
    served = api.client.get(f"/api/v1/badges/{badge['id']}/image")
    assert served.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in served.headers["content-security-policy"]  # an SVG cannot run script
    assert served.headers["x-content-type-options"] == "nosniff"

    removed = api.client.patch(url, json={"image": None}, headers=owner.headers).json()
    assert (removed["image"], removed["image_url"]) == (None, None)
    assert_problem(api.client.get(f"/api/v1/badges/{badge['id']}/image"), 404)

    assert api.client.delete(url, headers=owner.headers).status_code == 204
    assert_problem(api.client.get(url, headers=owner.headers), 404)
    assert api.client.get(badges_url(org), headers=owner.headers).json()["total"] == 1


def test_badges_are_awarded_for_this_organization_s_activities_only(
    api: Api, owner: Caller, org: dict[str, Any]
) -> None:
    other_owner = api.user()
    other_org = api.organization(other_owner, name="Other College")
    theirs = api.event(other_owner, other_org)
    their_course = make_course(api, other_owner, other_org)
    for awarded_for in ([theirs["id"]], [their_course["id"]], [str(uuid4())]):
        response = api.client.post(
            badges_url(org),
            json={"name": "B", "description": "D", "criteria": "C", "awarded_for": awarded_for},
            headers=owner.headers,
        )
        problem = assert_problem(response, 400, "awarded_for")
        assert awarded_for[0] in problem["detail"]
    badge = make_badge(api, owner, org)
    changed = api.client.patch(
        f"{badges_url(org)}/{badge['id']}",
        json={"awarded_for": [theirs["id"]]},
        headers=owner.headers,
    )
    assert_problem(changed, 400, "awarded_for")
    not_ids = api.client.post(
        badges_url(org),
        json={"name": "B", "description": "D", "criteria": "C", "awarded_for": ["nope"]},
        headers=owner.headers,
    )
    problem = assert_problem(not_ids, 400)
    assert problem["errors"][0]["field"].startswith("awarded_for")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"image": {"media_type": "image/jpeg", "data": "AAAA"}}, "image.media_type"),
        ({"image": {"media_type": "image/png", "data": "@@@"}}, "image.data"),
        ({"image": {"media_type": "image/png", "data": b64(b"not a png")}}, "image"),
        ({"image": {"media_type": "image/svg+xml", "data": b64(b"<svg")}}, "image"),
        ({"image": {"media_type": "image/png", "data": b64(b"x" * 600 * 1024)}}, "image.data"),
        ({"image": {"media_type": "image/png", "data": b64(b"x" * (512 * 1024 + 1))}}, "image"),
        ({"name": ""}, "name"),
        ({"criteria": " "}, "criteria"),
    ],
)
def test_bad_badge_fields_are_named(
    api: Api, owner: Caller, org: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    upload = {"name": "B", "description": "D", "criteria": "C"} | body
    assert_problem(api.client.post(badges_url(org), json=upload, headers=owner.headers), 400, field)


# -- The tenant line ---------------------------------------------------------------------------


def test_another_organization_s_designs_are_out_of_reach(
    api: Api, owner: Caller, org: dict[str, Any]
) -> None:
    template = make_template(api, owner, org)
    badge = make_badge(api, owner, org, image={"media_type": "image/png", "data": b64(tiny_png())})
    member, rival = api.user(), api.user()
    api.add_member(org, owner, member, "member")
    rival_org = api.organization(rival, name="Rival College")

    ours = [
        ("GET", templates_url(org)),
        ("POST", templates_url(org)),
        ("GET", f"{templates_url(org)}/{template['id']}"),
        ("PATCH", f"{templates_url(org)}/{template['id']}"),
        ("DELETE", f"{templates_url(org)}/{template['id']}"),
        ("GET", f"{templates_url(org)}/{template['id']}/preview"),
        ("GET", f"{templates_url(org)}/default/preview"),
        ("GET", badges_url(org)),
        ("POST", badges_url(org)),
        ("GET", f"{badges_url(org)}/{badge['id']}"),
        ("PATCH", f"{badges_url(org)}/{badge['id']}"),
        ("DELETE", f"{badges_url(org)}/{badge['id']}"),
    ]
    # The rival's staff asking for our ids under their own organization
    smuggled = [
        ("GET", f"{templates_url(rival_org)}/{template['id']}"),
        ("PATCH", f"{templates_url(rival_org)}/{template['id']}"),
        ("DELETE", f"{templates_url(rival_org)}/{template['id']}"),
        ("GET", f"{templates_url(rival_org)}/{template['id']}/preview"),
        ("GET", f"{badges_url(rival_org)}/{badge['id']}"),
        ("PATCH", f"{badges_url(rival_org)}/{badge['id']}"),
        ("DELETE", f"{badges_url(rival_org)}/{badge['id']}"),
    ]
    bodies = {
        "POST": {"name": "N", "source": CUSTOM, "description": "D", "criteria": "C"},
        "PATCH": {"name": "Taken over"},
    }

    def call(method: str, url: str, caller: Caller | None) -> Any:
        headers = caller.headers if caller else {}
        body = bodies.get(method)
        if body is not None and "/badges" in url:
            body = {k: v for k, v in body.items() if k != "source"}
        elif body is not None:
            body = {k: v for k, v in body.items() if k not in ("description", "criteria")}
        return api.client.request(method, url, json=body, headers=headers)

    for method, url in ours:
        assert_problem(call(method, url, None), 401)
        assert_problem(call(method, url, member), 403)
        assert_problem(call(method, url, rival), 404)
    for method, url in smuggled:
        assert_problem(call(method, url, rival), 404)

    assert api.client.get(templates_url(rival_org), headers=rival.headers).json()["items"] == []
    assert api.client.get(badges_url(rival_org), headers=rival.headers).json()["total"] == 0
    still = api.client.get(f"{templates_url(org)}/{template['id']}", headers=owner.headers).json()
    assert still["name"] == template["name"]
    assert api.client.get(f"/api/v1/badges/{badge['id']}/image").status_code == 200  # public
    assert_problem(api.client.get(f"/api/v1/badges/{uuid4()}/image"), 404)


def test_a_template_check_beyond_the_organization_s_cap_answers_429(
    api: Api, owner: Caller, org: dict[str, Any]
) -> None:
    """While one of the organization's templates is being compiled (a slot held here), the
    next upload or preview is refused at once with Retry-After rather than queued."""
    with api.container.certificate_design.checks.hold(UUID(org["id"])):
        upload = api.client.post(
            templates_url(org), json={"name": "Plain", "source": CUSTOM}, headers=owner.headers
        )
        preview = api.client.get(f"{templates_url(org)}/default/preview", headers=owner.headers)
    for refused in (upload, preview):
        assert_problem(refused, 429)
        assert int(refused.headers["retry-after"]) > 0
    make_template(api, owner, org)  # the slot is free again
