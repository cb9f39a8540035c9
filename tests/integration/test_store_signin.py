# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secrets-manager stores sign in without a long-lived secret (issue 24, item 5): role-level converges with no
Vault token and no AWS key in any variable or in the environment.

- hashi_vault, `jwt` auth: OpenBao's JWT auth method trusts a public key the test owns; the converge logs in with a
  JWT (RS256, signed here) read from a file, as AWX on Kubernetes reads a projected service account token.
- hashi_vault, `kubernetes` auth: OpenBao's Kubernetes auth method asks a TokenReview endpoint, which a loopback
  HTTPS server of the test stands in for, whether the service account token is valid.
- aws_secretsmanager, boto3's default credential chain against moto: a web identity token file and role ARN, as
  EKS's IRSA gives them (STS at moto through AWS_ENDPOINT_URL_STS), and a named profile from files.
"""

import base64
import http.server
import json
import os
import secrets
import ssl
import threading
import time
import urllib.parse

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import store_servers
from test_role import live_by_org, recap
from test_role_stores import NAMES, ORG, AwsSecretsManager, HashiVault, assert_clean
from test_store_hashi_vault import POLICY

# No Vault token anywhere: an empty VAULT_TOKEN and an empty HOME (no ~/.vault-token).
NO_VAULT_TOKEN = {"VAULT_TOKEN": "", "ANSIBLE_HASHI_VAULT_TOKEN": ""}
AUDIENCE = "resolver-scim"
SUBJECT = "system:serviceaccount:awx:scim"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_jwt(key, claims):
    """An RS256 JWT of ``claims`` signed with ``key``, as an identity provider (or Kubernetes) issues it."""
    signing_input = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()) + "." + b64url(
        json.dumps(claims).encode())
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def jwt_claims(subject, **extra):
    now = int(time.time())
    claims = {"iss": "https://oidc.test", "sub": subject, "aud": AUDIENCE, "iat": now, "nbf": now - 5,
              "exp": now + 3600}
    claims.update(extra)
    return claims


def write_secret_file(directory, name, text):
    path = directory / name
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def store_policy(openbao):
    """The documented store policy (docs/stores.md) under a name of its own, for an auth method's role."""
    name = "scim-" + secrets.token_hex(4)
    path = os.path.join(openbao.workdir, name + ".hcl")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(POLICY)
    openbao.cli("policy", "write", name, path)
    return name


def enable_auth(openbao, method):
    """Enable an auth method at a mount of its own (the OpenBao server lives for the whole session)."""
    mount = "%s-%s" % (method, secrets.token_hex(4))
    openbao.cli("auth", "enable", "-path=" + mount, method)
    return mount


def vault_store(store_collections, openbao, **settings):
    """The hashi_vault store of the role tests, with the given sign-in settings instead of a token."""
    store = HashiVault(store_collections, openbao)
    del store.vars["resolver_scim_hashi_vault_token"]
    store.vars.update(settings)
    store.env.update(NO_VAULT_TOKEN)
    return store


def logins(openbao, mark, mount):
    return [path for operation, path in openbao.requests_since(mark) if path == "auth/%s/login" % mount]


def assert_converge_stores_the_live_tokens(ansible, emulator, store):
    """A first converge issues and stores both tokens; a second one changes nothing."""
    inventory = store.inventory(ansible)
    rc, _results, output = ansible.run_playbook("converge", inventory, verbosity=4, env=store.env)
    assert rc == 0, output[-3000:]
    live = live_by_org(emulator)[1]
    assert {name: [store.stored(name)[0]] for name in NAMES} == live
    emulator.clear_log()
    rc, _results, output = ansible.run_playbook("converge", inventory, env=store.env)
    assert rc == 0 and recap(output)[ORG]["changed"] == 0 and emulator.mutating() == [], output[-3000:]


@pytest.fixture(name="signing_key")
def fixture_signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(name="jwt_auth")
def fixture_jwt_auth(openbao, signing_key, tmp_path):
    """OpenBao's JWT auth trusting the test's key; its role `scim` takes JWTs for AUDIENCE and SUBJECT only."""
    mount = enable_auth(openbao, "jwt")
    public_pem = tmp_path / "jwt-public.pem"
    public_pem.write_bytes(signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    openbao.cli("write", "auth/%s/config" % mount, "jwt_validation_pubkeys=@" + str(public_pem))
    openbao.cli("write", "auth/%s/role/scim" % mount, "role_type=jwt", "user_claim=sub",
                "bound_audiences=" + AUDIENCE, "bound_subject=" + SUBJECT, "token_policies=" + store_policy(openbao),
                "token_ttl=15m")
    return mount


def test_jwt_auth_converges_with_no_vault_token(ansible, emulator, openbao, store_collections, jwt_auth,
                                                signing_key, tmp_path):
    jwt = signed_jwt(signing_key, jwt_claims(SUBJECT))
    store = vault_store(store_collections, openbao, resolver_scim_hashi_vault_auth_method="jwt",
                        resolver_scim_hashi_vault_auth_mount_point=jwt_auth,
                        resolver_scim_hashi_vault_role_id="scim",
                        resolver_scim_hashi_vault_jwt_file=write_secret_file(tmp_path, "jwt", jwt))
    store.secrets.append(jwt)
    mark = openbao.audit_mark()
    assert_converge_stores_the_live_tokens(ansible, emulator, store)
    assert logins(openbao, mark, jwt_auth)
    assert_clean(ansible, emulator, store)


def test_jwt_auth_with_a_subject_the_role_does_not_bind_fails_clearly(ansible, emulator, openbao, store_collections,
                                                                      jwt_auth, signing_key):
    jwt = signed_jwt(signing_key, jwt_claims("system:serviceaccount:awx:someone-else"))
    # The JWT in the environment, as community.hashi_vault takes it (ANSIBLE_HASHI_VAULT_JWT).
    store = vault_store(store_collections, openbao, resolver_scim_hashi_vault_auth_method="jwt",
                        resolver_scim_hashi_vault_auth_mount_point=jwt_auth,
                        resolver_scim_hashi_vault_role_id="scim")
    store.env["ANSIBLE_HASHI_VAULT_JWT"] = jwt
    store.secrets.append(jwt)
    rc, results, output = ansible.run_playbook("converge", store.inventory(ansible), verbosity=4, env=store.env)
    assert rc != 0, output[-3000:]
    message = " ".join(str(r["result"].get("msg")) for r in results if r["status"] == "failed")
    assert "Vault refused the credentials (jwt auth)" in message, message
    assert "subject" in message.lower(), message
    assert emulator.mutating() == [] and emulator.tokens() == []
    assert not [r for r in results if jwt in json.dumps(r)]
    assert_clean(ansible, emulator, store)


def test_jwt_auth_with_a_missing_token_file_says_which_file(ansible, emulator, openbao, store_collections, jwt_auth,
                                                            tmp_path):
    missing = str(tmp_path / "no-such-token")
    store = vault_store(store_collections, openbao, resolver_scim_hashi_vault_auth_method="jwt",
                        resolver_scim_hashi_vault_auth_mount_point=jwt_auth,
                        resolver_scim_hashi_vault_role_id="scim", resolver_scim_hashi_vault_jwt_file=missing)
    rc, results, output = ansible.run_playbook("converge", store.inventory(ansible), env=store.env)
    assert rc != 0, output[-3000:]
    message = " ".join(str(r["result"].get("msg")) for r in results if r["status"] == "failed")
    assert "there is no JWT to sign in with: the file %s is missing, unreadable or empty" % missing in message, message
    assert emulator.mutating() == [] and emulator.tokens() == []


class TokenReview:
    """A stand-in for the Kubernetes API's TokenReview endpoint, over HTTPS on loopback: it knows one service
    account token, as the cluster that issued it would, and counts the reviews it answered."""

    def __init__(self, workdir, token, namespace, name, uid, reviewer):
        import trustme  # pylint: disable=import-outside-toplevel

        authority = trustme.CA()
        self.ca_cert = str(workdir / "kubernetes-ca.pem")
        authority.cert_pem.write_to_path(self.ca_cert)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(store_servers.LOOPBACK).configure_cert(context)
        self.reviews = []
        review = self._handler(token, namespace, name, uid, reviewer)
        self.server = http.server.ThreadingHTTPServer((store_servers.LOOPBACK, 0), review)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://%s:%d" % (store_servers.LOOPBACK, self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self, token, namespace, name, uid, reviewer):
        reviews = self.reviews

        class Review(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # pylint: disable=invalid-name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                authorized = self.headers.get("Authorization") == "Bearer " + reviewer
                known = authorized and body["spec"]["token"] == token
                reviews.append({"path": self.path, "authorized": authorized, "known": known})
                status = {"authenticated": True, "user": {
                    "username": "system:serviceaccount:%s:%s" % (namespace, name), "uid": uid,
                    "groups": ["system:serviceaccounts", "system:serviceaccounts:" + namespace]}} if known else {
                    "authenticated": False, "error": "token not issued by this cluster"}
                answer = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                                     "status": status}).encode()
                self.send_response(201 if authorized else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        return Review

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_kubernetes_auth_converges_with_the_service_account_token(ansible, emulator, openbao, store_collections,
                                                                  signing_key, tmp_path):
    uid = "5b0b4bd8-0000-4000-8000-%012d" % secrets.randbelow(10 ** 12)
    claims = {"iss": "kubernetes/serviceaccount", "sub": SUBJECT,
              "kubernetes.io/serviceaccount/namespace": "awx",
              "kubernetes.io/serviceaccount/service-account.name": "scim",
              "kubernetes.io/serviceaccount/service-account.uid": uid}
    service_account_token = signed_jwt(signing_key, claims)
    reviewer = "reviewer-" + secrets.token_hex(8)
    review = TokenReview(tmp_path, service_account_token, "awx", "scim", uid, reviewer)
    try:
        mount = enable_auth(openbao, "kubernetes")
        openbao.cli("write", "auth/%s/config" % mount, "kubernetes_host=" + review.url,
                    "kubernetes_ca_cert=@" + review.ca_cert, "token_reviewer_jwt=" + reviewer,
                    "disable_local_ca_jwt=true")
        openbao.cli("write", "auth/%s/role/scim" % mount, "bound_service_account_names=scim",
                    "bound_service_account_namespaces=awx", "token_policies=" + store_policy(openbao), "token_ttl=15m")
        store = vault_store(store_collections, openbao, resolver_scim_hashi_vault_auth_method="kubernetes",
                            resolver_scim_hashi_vault_auth_mount_point=mount,
                            resolver_scim_hashi_vault_role_id="scim",
                            resolver_scim_hashi_vault_jwt_file=write_secret_file(tmp_path, "token",
                                                                                 service_account_token))
        mark = openbao.audit_mark()
        assert_converge_stores_the_live_tokens(ansible, emulator, store)
        assert logins(openbao, mark, mount)
        assert review.reviews and all(r["known"] for r in review.reviews)
        assert {r["path"] for r in review.reviews} == {"/apis/authentication.k8s.io/v1/tokenreviews"}
        store.secrets += [service_account_token, reviewer]
        assert_clean(ansible, emulator, store)
    finally:
        review.close()


@pytest.fixture(name="aws_auth_on_hold")
def fixture_aws_auth_on_hold(moto):
    """moto's IAM authentication switched off for one test, and on again after it. moto (5.2) cannot authenticate
    the one call that is never signed, STS AssumeRoleWithWebIdentity: with authentication on it answers 500."""
    moto.control("reset-auth", b"1000000")
    yield moto
    moto.control("reset-auth", b"0")


def request_body(call):
    """The body of a request moto recorded (base64 when it says so)."""
    body = call.get("body") or ""
    return base64.b64decode(body).decode() if call.get("body_encoded") in (True, "True") else body


def aws_store(store_collections, moto, **env):
    """The aws_secretsmanager store of the role tests with no key anywhere: only what ``env`` gives boto3's chain."""
    store = AwsSecretsManager(store_collections, moto)
    store.env = {"ANSIBLE_COLLECTIONS_PATH": store.env["ANSIBLE_COLLECTIONS_PATH"], "AWS_EC2_METADATA_DISABLED": "true",
                 "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
                 "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    store.env.update(env)
    return store


def test_aws_store_signs_in_with_a_web_identity_token_file(ansible, emulator, store_collections, aws_auth_on_hold,
                                                           signing_key, tmp_path):
    moto = aws_auth_on_hold
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.test"}}]}
    role_name = "scim-" + secrets.token_hex(4)
    role_arn = moto.client("iam").create_role(RoleName=role_name,
                                              AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    web_identity = signed_jwt(signing_key, jwt_claims(SUBJECT, aud="sts.amazonaws.com"))
    store = aws_store(store_collections, moto, AWS_REGION="us-east-1", AWS_ROLE_ARN=role_arn,
                      AWS_ROLE_SESSION_NAME="resolver-scim",
                      AWS_WEB_IDENTITY_TOKEN_FILE=write_secret_file(tmp_path, "web-identity", web_identity),
                      AWS_ENDPOINT_URL_STS=moto.url)
    mark = moto.calls_mark()
    assert_converge_stores_the_live_tokens(ansible, emulator, store)
    calls = store_servers.log_since(moto.recording, mark)
    # The web identity token from the file, exchanged for the role's credentials at moto's STS.
    assumed = [urllib.parse.parse_qs(body) for body in map(request_body, calls) if "AssumeRoleWithWebIdentity" in body]
    assert assumed and all(a["RoleArn"] == [role_arn] and a["WebIdentityToken"] == [web_identity] for a in assumed)
    # Every Secrets Manager call of the runs was signed with the role's temporary credentials (moto's start with
    # ASIA); the others are the test's own reads of the store, with the writer's key.
    signed = [c["headers"].get("Authorization", "") for c in calls
              if c["headers"].get("X-Amz-Target", "").startswith("secretsmanager.")]
    runs = [header for header in signed if "Credential=%s/" % moto.keys["writer"][0] not in header]
    assert runs and all("Credential=ASIA" in header for header in runs)
    store.secrets.append(web_identity)
    assert_clean(ansible, emulator, store)


def test_aws_store_signs_in_with_a_named_profile(ansible, emulator, store_collections, moto, tmp_path):
    access_key, secret_key = moto.keys["writer"]
    config = write_secret_file(tmp_path, "aws-config", "[profile resolver-scim]\nregion = us-east-1\n")
    credentials = write_secret_file(tmp_path, "aws-credentials", "[resolver-scim]\naws_access_key_id = %s\n"
                                                                 "aws_secret_access_key = %s\n"
                                    % (access_key, secret_key))
    # No region in the environment either: the profile gives it.
    store = aws_store(store_collections, moto, AWS_PROFILE="resolver-scim",
                      AWS_CONFIG_FILE=config, AWS_SHARED_CREDENTIALS_FILE=credentials)
    mark = moto.calls_mark()
    assert_converge_stores_the_live_tokens(ansible, emulator, store)
    signed = [c["headers"].get("Authorization", "") for c in store_servers.log_since(moto.recording, mark)]
    assert signed and all("Credential=%s/" % access_key in header for header in signed)
    assert_clean(ansible, emulator, store)
