# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The four ways of signing in to Entra ID through msal (issue 24), against the stand-in, which verifies client
assertions as Entra ID does: a certificate's signed assertion (x5t or x5t#S256 with x5c), a federated token of a
trusted issuer and subject, and a managed identity from an IMDS-like endpoint."""

import pytest

import entra_credentials
from ansible_collections.resolver.scim.plugins.module_utils._entra import GraphClient
from ansible_collections.resolver.scim.plugins.module_utils._errors import EntraError, InputError

SUBJECT = "system:serviceaccount:awx:resolver-scim"


def make_client(emulator, app="provisioner", **sign_in):
    options = emulator.entra_connection(app, client_secret=None)
    options.update(sign_in)
    return GraphClient(**{k: v for k, v in options.items() if v is not None or k in ("tenant_id", "client_id")})


def sign_ins(emulator):
    """(method, what, status) of the requests to Entra ID's sign-in and managed identity endpoints."""
    return [(r["method"], r["path"].rsplit("/", 1)[-1], r["status"]) for r in emulator.log()
            if r["path"].startswith(("/_entra/login/", "/_entra/imds/"))]


def jobs_of(client, emulator):
    return client.jobs(emulator.service_principal()["id"])


@pytest.fixture(name="certificate")
def certificate_fixture(emulator, tmp_path):
    """A registered certificate: (path of the PEM with its key, the PEM)."""
    key = entra_credentials.new_key()
    certificate = entra_credentials.certificate_pem(key)
    emulator.register_certificate(certificate)
    path = tmp_path / "provisioner.pem"
    path.write_text(entra_credentials.key_pem(key) + certificate)
    return str(path), path.read_text()


def test_a_certificate_signs_in_with_its_thumbprint(emulator, certificate):
    emulator.clear_log()
    client = make_client(emulator, client_certificate_path=certificate[0])
    assert len(jobs_of(client, emulator)) == 1
    # msal's tenant discovery (instance discovery off), then one token request with the signed assertion
    assert sign_ins(emulator) == [("GET", "openid-configuration", 200), ("POST", "token", 200)]
    assert certificate[1].split("-----BEGIN CERTIFICATE")[0] not in client.redact(certificate[1])


def test_a_certificate_given_as_content_with_its_chain_and_an_encrypted_key(emulator, tmp_path):
    key = entra_credentials.new_key()
    certificate = entra_credentials.certificate_pem(key)
    emulator.register_certificate(certificate)
    pem = entra_credentials.key_pem(key, password="pass phrase") + certificate
    client = make_client(emulator, client_certificate=pem, client_certificate_password="pass phrase",
                         send_certificate_chain=True)
    assert len(jobs_of(client, emulator)) == 1
    assert client.redact("pass phrase") == "********"


@pytest.mark.parametrize("password, expected", [
    (None, "holds an encrypted private key: set client_certificate_password"),
    ("hunter2-typo", "the private key cannot be read: client_certificate_password is wrong"),
])
def test_an_encrypted_key_needs_its_password(emulator, password, expected):
    key = entra_credentials.new_key()
    pem = entra_credentials.key_pem(key, password="right") + entra_credentials.certificate_pem(key)
    emulator.clear_log()
    with pytest.raises(InputError) as caught:
        make_client(emulator, client_certificate=pem, client_certificate_password=password)
    assert expected in str(caught.value) and "hunter2" not in str(caught.value)
    assert emulator.log() == []


def test_a_key_with_another_keys_certificate_is_refused_before_any_request(emulator, certificate):
    other_key = entra_credentials.new_key()
    emulator.clear_log()
    with pytest.raises(InputError) as caught:
        make_client(emulator, client_certificate=entra_credentials.key_pem(other_key) + certificate[1].split(
            "-----END PRIVATE KEY-----\n")[1])
    assert "none of its certificates is the private key's" in str(caught.value)
    assert emulator.log() == []


def test_an_unregistered_certificate_is_refused_by_its_thumbprint(emulator, certificate):
    key = entra_credentials.new_key()
    with pytest.raises(EntraError) as caught:
        make_client(emulator, client_certificate=entra_credentials.key_pem(key)
                    + entra_credentials.certificate_pem(key)).access_token()
    message = caught.value.message
    assert "refused the certificate sign-in" in message and "AADSTS700027" in message
    assert "The key was not found" in message and "Check the certificate: it must be one of the app registration's" \
        in message


def test_an_expired_certificate_is_refused(emulator, tmp_path):
    key = entra_credentials.new_key()
    certificate = entra_credentials.certificate_pem(key, expired=True)
    emulator.register_certificate(certificate)
    with pytest.raises(EntraError) as caught:
        make_client(emulator, client_certificate=entra_credentials.key_pem(key) + certificate).access_token()
    assert "The key used is expired" in caught.value.message and "upload the renewed certificate" in caught.value.message


def test_a_federated_token_file_is_read_at_each_sign_in(emulator, tmp_path):
    issuer = entra_credentials.Issuer()
    emulator.trust_issuer(issuer, SUBJECT)
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(issuer.token(SUBJECT, lifetime=-60))  # expired when the client is made
    client = make_client(emulator, federated_token_file=str(token_file))
    fresh = issuer.token(SUBJECT)
    token_file.write_text(fresh + "\n")  # the kubelet rotated it
    emulator.clear_log()
    assert len(jobs_of(client, emulator)) == 1
    assert sign_ins(emulator) == [("GET", "openid-configuration", 200), ("POST", "token", 200)]
    assert client.redact(fresh) == "********"


@pytest.mark.parametrize("subject, trusted, expected", [
    ("system:serviceaccount:default:other", True, "AADSTS700213: No matching federated identity record found for "
                                                  "presented assertion subject 'system:serviceaccount:default:other'"),
    (SUBJECT, False, "AADSTS700211: No matching federated identity record found for presented assertion issuer"),
])
def test_an_untrusted_subject_or_issuer_is_refused(emulator, tmp_path, subject, trusted, expected):
    issuer = entra_credentials.Issuer()
    if trusted:
        emulator.trust_issuer(issuer, SUBJECT)
    token_file = tmp_path / "token"
    token_file.write_text(issuer.token(subject))
    with pytest.raises(EntraError) as caught:
        make_client(emulator, federated_token_file=str(token_file)).access_token()
    assert expected in caught.value.message
    assert "one must trust exactly the token's issuer and subject" in caught.value.message
    assert token_file.read_text() not in caught.value.message


def test_a_missing_or_empty_token_file(emulator, tmp_path):
    with pytest.raises(InputError) as caught:
        make_client(emulator, federated_token_file=str(tmp_path / "absent"))
    assert "federated_token_file '%s' does not exist or is not a file" % (tmp_path / "absent") in str(caught.value)
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(EntraError) as caught:
        make_client(emulator, federated_token_file=str(empty)).access_token()
    assert caught.value.message == ("get an access token: federated_token_file '%s' is empty: the token issuer has not "
                                    "written it (yet)." % empty)


@pytest.fixture(name="imds")
def imds_fixture(emulator, monkeypatch):
    """msal asks this host instead of 169.254.169.254 (the variable aad-pod-identity sets)."""
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", emulator.base + "/_entra/imds")
    return emulator


@pytest.mark.parametrize("user_assigned", [False, True])
def test_a_managed_identity(imds, user_assigned):
    emulator = imds
    emulator.managed_identities(system=None if user_assigned else "provisioner",
                                user_assigned=["provisioner"] if user_assigned else [])
    client_id = emulator.app("provisioner")["client_id"] if user_assigned else None
    emulator.clear_log()
    client = make_client(emulator, tenant_id=None, client_id=client_id, managed_identity=True)
    assert len(jobs_of(client, emulator)) == 1
    assert sign_ins(emulator) == [("GET", "token", 200)]  # the IMDS request, no discovery


def test_no_managed_identity(imds):
    imds.managed_identities()
    with pytest.raises(EntraError) as caught:
        make_client(imds, tenant_id=None, client_id=None, managed_identity=True).access_token()
    assert caught.value.message.startswith("get an access token: the managed identity endpoint gave no token for the "
                                           "system-assigned identity (HTTP 400 invalid_request: Identity not found).")
    assert "managed_identity works only on Azure compute" in caught.value.message


@pytest.mark.parametrize("options, expected", [
    ({"client_secret": "s", "managed_identity": True}, "client secret and managed identity are set"),
    ({}, "No way of signing in to Entra ID is set"),
    ({"client_secret": "s", "send_certificate_chain": True}, "send_certificate_chain is only used with a certificate"),
    ({"client_certificate": "x", "client_certificate_path": "/etc/hostname"}, "give the PEM file's path or its content"),
    ({"client_certificate": "not a pem"}, "must hold a PEM private key and its certificate (the private key is missing)"),
])
def test_conflicting_or_incomplete_sign_in_options(emulator, options, expected):
    with pytest.raises(InputError) as caught:
        make_client(emulator, **options)
    assert expected in str(caught.value)


def test_no_redirect_is_followed_during_the_sign_in(emulator, certificate):
    emulator.faults({"method": "POST", "path": "/oauth2/v2.0/token$", "count": 1, "status": 307})
    emulator.clear_log()
    with pytest.raises(EntraError) as caught:
        make_client(emulator, client_certificate_path=certificate[0]).access_token()
    assert "got a redirect (HTTP 307)" in caught.value.message
    assert "which is never followed so that no credential goes to another host. Set authority_url" in \
        caught.value.message
    assert sign_ins(emulator) == [("GET", "openid-configuration", 200), ("POST", "token", 307)]


def test_tenant_discovery_is_retried_and_an_outage_is_named(emulator, certificate):
    emulator.faults({"method": "GET", "path": "openid-configuration$", "count": 1, "status": 503, "retry_after": 0},
                    {"method": "POST", "path": "/oauth2/v2.0/token$", "count": 9, "status": 503, "retry_after": 0})
    with pytest.raises(EntraError) as caught:
        make_client(emulator, client_certificate_path=certificate[0], sleep=lambda seconds: None).access_token()
    assert "Entra ID kept answering HTTP 503 within the retry budget" in caught.value.message
    assert [c[:2] for c in sign_ins(emulator)] == [("GET", "openid-configuration")] * 2 + [("POST", "token")] * 5
