# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signing in to Microsoft Entra ID for Graph through msal, Microsoft's own library: a client secret, a certificate
(a signed client assertion), a workload identity federation token file, or a managed identity.

The way is chosen by which options are set (``sign_in_way``). msal gets an HTTP client (``MsalTransport``) that sends
through the GraphClient's session, with its TLS settings, timeouts and retries (``Retry-After`` honoured), follows no
redirect (so no credential goes to another address) and tells the GraphClient every credential it sends or receives,
so that each is redacted from any text.
"""

import os
import re
import traceback

try:
    import msal
    import requests
    HAS_MSAL = True
    MSAL_IMPORT_ERROR = None
except ImportError:
    HAS_MSAL = False
    MSAL_IMPORT_ERROR = traceback.format_exc()

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
except ImportError:  # msal needs cryptography, so HAS_MSAL covers its absence
    pass

from ansible_collections.resolver.scim.plugins.module_utils._env import env_fallback
from ansible_collections.resolver.scim.plugins.module_utils._errors import NOT_SHOWN, PATH_LIKE, InputError, quoted

SECRET, CERTIFICATE, FEDERATED, MANAGED_IDENTITY = "client secret", "certificate", "workload identity federation", \
    "managed identity"

# The sign-in options of group/resolver.scim.entra, named as the Azure SDKs and CLI name their environment variables.
SIGN_IN_ARGUMENT_SPEC = dict(
    client_certificate_path=dict(type="path", fallback=(env_fallback, ["AZURE_CLIENT_CERTIFICATE_PATH"])),
    client_certificate=dict(type="str", no_log=True),
    client_certificate_password=dict(type="str", no_log=True,
                                     fallback=(env_fallback, ["AZURE_CLIENT_CERTIFICATE_PASSWORD"])),
    send_certificate_chain=dict(type="bool", default=False,
                                fallback=(env_fallback, ["AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"])),
    federated_token_file=dict(type="path", fallback=(env_fallback, ["AZURE_FEDERATED_TOKEN_FILE"])),
    managed_identity=dict(type="bool", default=False),
)
# What sets each way, for messages: option (environment variable).
_WAY_OPTIONS = {
    SECRET: "client_secret (AZURE_CLIENT_SECRET / AZURE_SECRET)",
    CERTIFICATE: "client_certificate_path (AZURE_CLIENT_CERTIFICATE_PATH) or client_certificate",
    FEDERATED: "federated_token_file (AZURE_FEDERATED_TOKEN_FILE)",
    MANAGED_IDENTITY: "managed_identity: true",
}
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----.+?-----END (?:[A-Z]+ )*PRIVATE KEY-----", re.S)


def sign_in_way(params):
    """The one way of signing in that the options set; a clear error when none, several or an incomplete one."""
    chosen = [way for way, given in (
        (SECRET, params.get("client_secret")),
        (CERTIFICATE, params.get("client_certificate_path") or params.get("client_certificate")),
        (FEDERATED, params.get("federated_token_file")),
        (MANAGED_IDENTITY, params.get("managed_identity"))) if given]
    if len(chosen) > 1:
        raise InputError("%s are set, but they are different ways of signing in to Entra ID; keep one: %s."
                         % (" and ".join(chosen), "; ".join(_WAY_OPTIONS[way] for way in chosen)))
    if not chosen:
        raise InputError("No way of signing in to Entra ID is set: give one of %s." % "; ".join(_WAY_OPTIONS.values()))
    way = chosen[0]
    if params.get("client_certificate_path") and params.get("client_certificate"):
        raise InputError("client_certificate_path and client_certificate are both set; give the PEM file's path or its "
                         "content, not both.")
    if way != CERTIFICATE:
        for option in ("client_certificate_password", "send_certificate_chain"):
            if params.get(option):
                raise InputError("%s is only used with a certificate (client_certificate_path or client_certificate); "
                                 "remove it for the %s sign-in." % (option, way))
    for option in ("client_certificate_path", "federated_token_file"):
        path = params.get(option)
        if path and not os.path.isfile(path):
            raise InputError("%s %s does not exist or is not a file." % (option, quoted(path, PATH_LIKE)))
    return way


def read_certificate(pem, password, option):
    """(private key PEM, unencrypted; leaf certificate PEM; its SHA-1 thumbprint) from one PEM text with the key
    and the certificate chain, as Azure tools take it."""
    key_block = _PRIVATE_KEY.search(pem)
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        certificates = []
    if not key_block or not certificates:
        raise InputError("%s must hold a PEM private key and its certificate (%s is missing); its content is not shown."
                         % (option, "the private key" if not key_block else "the certificate"))
    try:
        key = serialization.load_pem_private_key(key_block.group(0).encode(),
                                                 password.encode() if password else None)
    except TypeError:
        raise InputError("%s holds an encrypted private key: set client_certificate_password (or "
                         "AZURE_CLIENT_CERTIFICATE_PASSWORD)." % option)
    except ValueError:
        raise InputError("%s: the private key cannot be read: client_certificate_password is wrong, or it is not a "
                         "PEM RSA key (%s)." % (option, NOT_SHOWN))
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    leaf = [c for c in certificates if c.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == public]
    if not leaf:
        raise InputError("%s: none of its certificates is the private key's; give the key with its own certificate."
                         % option)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    chain = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in [leaf[0]] + [
        c for c in certificates if c is not leaf[0]])
    return key_pem, chain, leaf[0].fingerprint(hashes.SHA1()).hex()  # nosec: the x5t thumbprint is SHA-1


class SignIn:
    """One way of signing in, turned into msal's credential; ``remember`` is told every secret it reads."""

    def __init__(self, params, remember):
        """Checks the options and reads a certificate now, so that a bad one fails before any request."""
        self.way = sign_in_way(params)
        self.params = params
        self._remember = remember
        self._credential = None
        if self.way == SECRET:
            self._credential = params["client_secret"]
        elif self.way == FEDERATED:
            # A callable: msal asks for the assertion at each sign-in, and the file rotates (about hourly on AKS).
            self._credential = {"client_assertion": self._federated_assertion}
        elif self.way == CERTIFICATE:
            self._credential = self._certificate()

    def _certificate(self):
        """msal's ``client_credential`` for a certificate."""
        params = self.params
        option = "client_certificate_path" if params.get("client_certificate_path") else "client_certificate"
        pem = params.get("client_certificate")
        if option == "client_certificate_path":
            try:
                with open(params["client_certificate_path"], encoding="utf-8") as handle:
                    pem = handle.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError("client_certificate_path %s cannot be read as PEM text (%s)."
                                 % (quoted(params["client_certificate_path"], PATH_LIKE), type(exc).__name__))
        self._remember(pem, params.get("client_certificate_password"))
        key_pem, chain, thumbprint = read_certificate(pem, params.get("client_certificate_password"), option)
        self._remember(key_pem)
        if params.get("send_certificate_chain"):
            # msal then signs PS256 with an x5t#S256 header and sends the chain as x5c (subject name/issuer auth).
            return {"private_key": key_pem, "public_certificate": chain}
        return {"private_key": key_pem, "thumbprint": thumbprint}

    def _federated_assertion(self):
        path = self.params["federated_token_file"]
        try:
            with open(path, encoding="utf-8") as handle:
                assertion = handle.read().strip()
        except OSError as exc:
            raise InputError("federated_token_file %s cannot be read (%s): workload identity mounts it into the pod; "
                             "check AZURE_FEDERATED_TOKEN_FILE." % (quoted(path, PATH_LIKE), exc.strerror or exc))
        if not assertion:
            raise InputError("federated_token_file %s is empty: the token issuer has not written it (yet)."
                             % quoted(path, PATH_LIKE))
        self._remember(assertion)
        return assertion

    def acquire(self, transport, authority, graph_url):
        """msal's answer: a dict with access_token, or with error and error_description; None when msal gave up on
        an answer it could not use (its exception text quotes the whole answer, so it is not passed on)."""
        try:
            return self._acquire(transport, authority, graph_url)
        except InputError:
            raise
        except (msal.exceptions.MsalServiceError, ValueError, RuntimeError, requests.exceptions.HTTPError):
            return None

    def _acquire(self, transport, authority, graph_url):
        if self.way == MANAGED_IDENTITY:
            client_id = self.params.get("client_id")
            identity = msal.UserAssignedManagedIdentity(client_id=client_id) if client_id else \
                msal.SystemAssignedManagedIdentity()
            app = msal.ManagedIdentityClient(identity, http_client=transport, token_cache=msal.TokenCache())
            return app.acquire_token_for_client(resource=graph_url)
        app = msal.ConfidentialClientApplication(
            self.params["client_id"], client_credential=self._credential, authority=authority,
            http_client=transport, token_cache=msal.TokenCache(), instance_discovery=False)
        return app.acquire_token_for_client(scopes=[graph_url + "/.default"])


class MsalTransport:
    """The ``http_client`` msal is given: GraphClient's session, verify, timeouts and retries; no redirects."""

    def __init__(self, send, remember):
        self._send = send
        self._remember = remember
        self.last = None  # the last answer, for an error message

    def get(self, url, params=None, headers=None, **_msal_extras):
        return self._request("GET", url, params=params, headers=headers)

    def post(self, url, params=None, data=None, headers=None, **_msal_extras):
        if isinstance(data, dict):
            self._remember(data.get("client_assertion"), data.get("client_secret"))
        return self._request("POST", url, params=params, data=data, headers=headers)

    def _request(self, method, url, **kwargs):
        # The transport refuses a redirect (no credential follows it) and bounds the answer.
        response = self._send(method, url, **kwargs)
        self.last = response
        try:
            self._remember((response.json() or {}).get("access_token"))
        except (ValueError, AttributeError):
            pass
        return response

    def close(self):
        """msal may close its client; the session belongs to the GraphClient, which closes it."""
