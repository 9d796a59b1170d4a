"""Talos Image Factory driver (httpx): register schematics, name images, fetch checksums, list what it offers.

Error translation: timeouts, connection errors and 5xx are `Transient`; 4xx are `Permanent` carrying the
factory's own plain-text message (e.g. the YAML decoder's "field foo not found in type ..."). Checksums
(`<asset>.sha256`) are an Enterprise feature: the community factory answers 402, reported here as None.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from runner.core.errors import Permanent, Transient
from runner.core.schematic import Schematic, schematic_id, schematic_yaml


class ImageFactoryApi(Protocol):
    """What the step handlers use: register a schematic, then where its image is and its checksum."""

    def ensure_schematic(self, schematic: Schematic) -> str: ...

    def image_url(
        self, schematic_id: str, version: str, platform: str = "metal", arch: str = "amd64", fmt: str = "qcow2"
    ) -> str: ...

    def image_checksum(
        self, schematic_id: str, version: str, platform: str = "metal", arch: str = "amd64", fmt: str = "qcow2"
    ) -> str | None: ...

    def __enter__(self) -> ImageFactoryApi: ...

    def __exit__(self, *exc: object) -> None: ...


class ImageFactoryDriver:
    def __init__(self, base_url: str, timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)
        self._checksums_published: bool | None = None  # learnt from the first checksum request

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ImageFactoryDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- HTTP ----------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, ok: tuple[int, ...], **kwargs: object) -> httpx.Response:
        what = f"image factory {method} {self.base_url}{path}"
        try:
            response = self._client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.TimeoutException as exc:
            raise Transient(f"{what}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise Transient(f"{what}: {type(exc).__name__}: {exc}") from exc
        if response.status_code in ok:
            return response
        message = response.text.strip() or response.reason_phrase
        if response.status_code >= 500:
            raise Transient(f"{what}: {response.status_code}: {message}")
        raise Permanent(f"{what}: {response.status_code}: {message}")

    # --- schematics ----------------------------------------------------------------------------------

    def ensure_schematic(self, schematic: Schematic) -> str:
        """Register the schematic (idempotent) and return its id, checked against our own computation."""
        expected = schematic_id(schematic)
        response = self._request(
            "POST",
            "/schematics",
            (200, 201),
            content=schematic_yaml(schematic),
            headers={"Content-Type": "application/yaml"},
        )
        try:
            got = str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise Permanent(f"image factory POST /schematics: unexpected answer {response.text[:200]!r}") from exc
        if got != expected:
            raise Permanent(
                f"image factory computed a different id for the schematic: factory {got}, runner {expected} "
                "(the factory's canonical YAML differs from ours; check the factory version)"
            )
        return got

    def versions(self) -> list[str]:
        return [str(v) for v in self._request("GET", "/versions", (200,)).json()]

    def official_extensions(self, version: str) -> list[str]:
        answer = self._request("GET", f"/version/{version}/extensions/official", (200,)).json()
        return [str(item["name"]) for item in answer]

    def image_url(
        self, schematic_id: str, version: str, platform: str = "metal", arch: str = "amd64", fmt: str = "qcow2"
    ) -> str:
        return f"{self.base_url}/image/{schematic_id}/{version}/{platform}-{arch}.{fmt}"

    def image_checksum(
        self, schematic_id: str, version: str, platform: str = "metal", arch: str = "amd64", fmt: str = "qcow2"
    ) -> str | None:
        """sha256 of the image when the factory publishes checksums (Enterprise), else None."""
        if self._checksums_published is False:
            return None
        url = self.image_url(schematic_id, version, platform, arch, fmt) + ".sha256"
        response = self._request("GET", url.removeprefix(self.base_url), (200, 402))
        if response.status_code == 402:
            self._checksums_published = False
            return None
        self._checksums_published = True
        digest = response.text.split()[0] if response.text.split() else ""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise Permanent(f"image factory {url}: not a sha256 checksum line: {response.text[:120]!r}")
        return digest
