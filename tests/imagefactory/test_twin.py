"""The twin answers like the real factory: status codes, bodies, headers, and where checks happen."""

from __future__ import annotations

import httpx
import pytest

from runner.core.schematic import node_schematic, schematic_id, schematic_yaml
from runner.lab.imagefactory import image_bytes
from tests.imagefactory.conftest import Factory

GVISOR = node_schematic(["siderolabs/gvisor"])


def post(factory: Factory, body: bytes | str) -> httpx.Response:
    return httpx.post(f"{factory.url}/schematics", content=body, headers={"Content-Type": "application/yaml"})


def test_create_answers_201_with_id_and_canonical_yaml(factory: Factory) -> None:
    response = post(factory, "customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/gvisor]\n")
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"id": schematic_id(GVISOR), "schematic": schematic_yaml(GVISOR).decode()}
    again = httpx.get(f"{factory.url}/schematics/{schematic_id(GVISOR)}")
    assert (again.status_code, again.headers["content-type"], again.content) == (
        200,
        "application/yaml",
        schematic_yaml(GVISOR),
    )


def test_invalid_schematic_is_400_plain_text(factory: Factory) -> None:
    response = post(factory, "something:")
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "yaml: construct errors: line 1: field something not found in type schematic.Schematic\n"
    assert post(factory, "customization:\n  meta:\n    - {key: 300, value: x}\n").status_code == 400
    assert factory.state.schematics == {}


def test_unknown_schematic_is_404(factory: Factory) -> None:
    response = httpx.get(f"{factory.url}/schematics/{'a' * 64}")
    assert (response.status_code, response.text) == (404, "schematic not found\n")
    image = httpx.get(f"{factory.url}/image/{'a' * 64}/v1.11.2/metal-amd64.qcow2")
    assert (image.status_code, image.text) == (404, f'schematic ID "{"a" * 64}" not found\n')


@pytest.mark.parametrize(
    ("version", "path", "status", "text"),
    [
        ("v1.99.0", "metal-amd64.qcow2", 404, "version v1.99.0 is not available\n"),
        ("v1.11.2", "metal-amd64.vhdx", 400, 'invalid profile path: "metal-amd64.vhdx"\n'),
        ("v1.11.2", "metal-riscv64.raw.xz", 400, 'invalid architecture: "riscv64"\n'),
        ("latest", "metal-amd64.qcow2", 500, "internal server error\n"),
        ("v1.11.2", "metal-amd64.qcow2.sha256", 402, "enterprise not enabled: checksum endpoint is not available\n"),
    ],
)
def test_image_errors(factory: Factory, version: str, path: str, status: int, text: str) -> None:
    sid = post(factory, schematic_yaml(GVISOR)).json()["id"]
    response = httpx.get(f"{factory.url}/image/{sid}/{version}/{path}")
    assert (response.status_code, response.text) == (status, text)


def test_unknown_extension_is_accepted_then_fails_at_image_time(factory: Factory) -> None:
    created = post(factory, "customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/nope]\n")
    assert created.status_code == 201
    response = httpx.get(f"{factory.url}/image/{created.json()['id']}/v1.11.2/metal-amd64.qcow2")
    assert response.status_code == 400
    assert response.text == 'official extension "siderolabs/nope" is not available for Talos version v1.11.2\n'


def test_image_download_and_head(factory: Factory) -> None:
    sid = post(factory, schematic_yaml(GVISOR)).json()["id"]
    url = f"{factory.url}/image/{sid}/1.11.2/metal-amd64.raw.xz"
    got = httpx.get(url)
    assert got.status_code == 200
    assert got.content == image_bytes(sid, "v1.11.2", "metal-amd64.raw.xz")
    assert got.headers["content-type"] == "application/x-xz"
    assert got.headers["content-disposition"] == 'attachment; filename="metal-amd64.raw.xz"'
    head = httpx.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))


def test_versions_and_official_extensions(factory: Factory) -> None:
    versions = httpx.get(f"{factory.url}/versions").json()
    assert {"v1.10.0", "v1.11.0", "v1.11.5"} <= set(versions)
    names = [e["name"] for e in httpx.get(f"{factory.url}/version/v1.11.2/extensions/official").json()]
    assert {"siderolabs/qemu-guest-agent", "siderolabs/tailscale"} <= set(names)
    assert httpx.get(f"{factory.url}/version/v1.99.0/extensions/official").status_code == 404


@pytest.mark.parametrize(
    ("version", "listed", "absent"),
    [
        (
            "v1.11.2",
            {"siderolabs/qemu-guest-agent", "siderolabs/tailscale"},
            {"siderolabs/nfs-utils", "siderolabs/uhid"},
        ),
        ("v1.12.11", {"siderolabs/nfs-utils", "siderolabs/netbird"}, {"siderolabs/uhid", "siderolabs/px-fuse"}),
        ("v1.13.9", {"siderolabs/nfs-utils", "siderolabs/uhid", "siderolabs/px-fuse"}, set()),
    ],
)
def test_each_talos_minor_lists_its_own_official_extensions(
    factory: Factory, version: str, listed: set[str], absent: set[str]
) -> None:
    # siderolabs/extensions Makefile TARGETS at v1.11.2, v1.12.11 and v1.13.9: nfs-utils came with v1.12, uhid
    # and px-fuse with v1.13
    names = {e["name"] for e in httpx.get(f"{factory.url}/version/{version}/extensions/official").json()}
    assert listed <= names and not absent & names


def test_an_extension_of_a_newer_minor_builds_only_there(factory: Factory) -> None:
    sid = post(factory, schematic_yaml(node_schematic(["siderolabs/nfs-utils"]))).json()["id"]
    old = httpx.get(f"{factory.url}/image/{sid}/v1.11.2/metal-amd64.qcow2")
    assert (old.status_code, old.text) == (
        400,
        'official extension "siderolabs/nfs-utils" is not available for Talos version v1.11.2\n',
    )
    assert httpx.get(f"{factory.url}/image/{sid}/v1.13.9/metal-amd64.qcow2").status_code == 200


def test_calls_are_logged_and_faults_injected(factory: Factory) -> None:
    factory.state.inject_failures(2, status=502)
    assert [httpx.get(f"{factory.url}/versions").status_code for _ in range(3)] == [502, 502, 200]
    assert [c.status for c in factory.state.calls_to("GET", "/versions")] == [502, 502, 200]
