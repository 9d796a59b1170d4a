"""API token authentication as pveproxy does it: 401 with an empty body, never a hint of the secret."""

from __future__ import annotations

import pytest

from runner.core.errors import Permanent, Transient
from runner.core.secret import Secret
from runner.drivers.proxmox import ProxmoxDriver
from runner.lab.proxmox.tls import write_self_signed

TOKEN_ID = "root@pam!runner"


@pytest.mark.parametrize(
    "token",
    [None, f"{TOKEN_ID}=wrong-secret", "root@pam!other={secret}", "garbage", "{token_id}"],
)
def test_missing_or_wrong_token_is_401(make_api, twin_state, token):
    secret = twin_state.tokens[TOKEN_ID]
    token = token.format(secret=secret, token_id=TOKEN_ID) if token else None
    response = make_api(token).request("GET", "/version")
    assert response.status_code == 401
    assert response.content == b""


def test_valid_token_is_200(api):
    response = api.request("GET", "/version")
    assert response.status_code == 200
    assert set(response.json()["data"]) == {"version", "release", "repoid"}


def test_driver_with_wrong_secret_raises_permanent_without_leaking(make_driver):
    driver = make_driver(secret="not-the-secret")
    with pytest.raises(Permanent, match="authentication failed") as failure:
        driver.list_vms()
    assert "not-the-secret" not in str(failure.value)
    assert "not-the-secret" not in repr(driver)


def test_driver_refuses_plain_http_and_malformed_token_ids():
    with pytest.raises(Permanent, match="https"):
        ProxmoxDriver("http://127.0.0.1:8006", TOKEN_ID, Secret("s3cr3t-value"))
    with pytest.raises(Permanent, match="user@realm!tokenid"):
        ProxmoxDriver("https://atlas:8006", "root@pam", Secret("s3cr3t-value"))


def test_tls_is_verified_against_the_given_ca(make_driver, tmp_path):
    other_ca = write_self_signed(tmp_path / "other").certfile
    driver = make_driver(ca_bundle=str(other_ca))
    with pytest.raises(Transient, match="SSLError"):
        driver.list_vms()
