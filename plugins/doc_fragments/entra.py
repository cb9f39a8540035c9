# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of the Microsoft Entra ID modules (plugins/module_utils/_entra.py holds the spec)."""


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - The Directory (tenant) ID of the Entra ID tenant, a GUID, or one of its verified domains
        (C(contoso.onmicrosoft.com)).
      - If not set, the value of the E(AZURE_TENANT_ID) environment variable is used, then E(AZURE_TENANT) (the name
        AWX's "Microsoft Azure Resource Manager" credential injects).
      - Required, except with O(managed_identity=true).
    type: str
  client_id:
    description:
      - The Application (client) ID of the app registration that calls Microsoft Graph, a GUID.
      - It needs the Graph application permission C(Synchronization.ReadWrite.All), or C(Application.ReadWrite.OwnedBy)
        (least privilege) with the app made an owner of the enterprise application, with admin consent.
      - If not set, the value of the E(AZURE_CLIENT_ID) environment variable is used.
      - With O(managed_identity=true), the client ID of a user-assigned managed identity; leave it unset for the
        system-assigned one.
      - Required, except with O(managed_identity=true).
    type: str
  client_secret:
    description:
      - Sign in with a client secret of that app registration (its Value, not its Secret ID).
      - If not set, the value of the E(AZURE_CLIENT_SECRET) environment variable is used, then E(AZURE_SECRET) (the
        name AWX's "Microsoft Azure Resource Manager" credential injects).
      - Exactly one way of signing in must be set - O(client_secret), a certificate (O(client_certificate_path) or
        O(client_certificate)), O(federated_token_file) or O(managed_identity). See docs/entra-id.md for which to
        choose.
    type: str
  client_certificate_path:
    description:
      - Sign in with a certificate - the path of a PEM file holding the private key and the certificate uploaded to the
        app registration (and optionally its chain). A client assertion signed with the key is sent, with the
        certificate's thumbprint; the key never leaves the host.
      - If not set, the value of the E(AZURE_CLIENT_CERTIFICATE_PATH) environment variable is used.
    type: path
  client_certificate:
    description:
      - The same PEM content as O(client_certificate_path), given as text (for example from a vault).
    type: str
  client_certificate_password:
    description:
      - The passphrase of an encrypted private key in the certificate's PEM.
      - If not set, the value of the E(AZURE_CLIENT_CERTIFICATE_PASSWORD) environment variable is used.
    type: str
  send_certificate_chain:
    description:
      - Send the certificate chain in the assertion's C(x5c) header (signed PS256 with an C(x5t#S256) thumbprint), for
        subject name and issuer authentication. By default only the thumbprint (C(x5t)) is sent.
      - If not set, the value of the E(AZURE_CLIENT_SEND_CERTIFICATE_CHAIN) environment variable is used.
    type: bool
    default: false
  federated_token_file:
    description:
      - Sign in with workload identity federation - the path of a file holding a token of an issuer that a federated
        credential of the app registration trusts (AKS workload identity, a CI's OIDC token). It is read anew at each
        sign-in, because it rotates.
      - If not set, the value of the E(AZURE_FEDERATED_TOKEN_FILE) environment variable is used (AKS workload
        identity sets it, with E(AZURE_CLIENT_ID), E(AZURE_TENANT_ID) and E(AZURE_AUTHORITY_HOST)).
    type: path
  managed_identity:
    description:
      - Sign in as the managed identity of the Azure VM, container or App Service that runs the module (from its
        instance metadata endpoint); no secret at all. The system-assigned identity, or the user-assigned one named
        by O(client_id). The identity needs the Graph app role C(Synchronization.ReadWrite.All).
      - O(tenant_id) is not needed.
    type: bool
    default: false
  authority_url:
    description:
      - The Entra ID authority host; the token is requested from C(<authority_url>/<tenant_id>/oauth2/v2.0/token),
        after msal reads the tenant's C(<authority_url>/<tenant_id>/v2.0/.well-known/openid-configuration).
      - Change it for a national cloud, for example C(https://login.microsoftonline.us) (with O(graph_url)
        C(https://graph.microsoft.us)), or for a test stand-in.
      - If not set, the value of the E(AZURE_AUTHORITY_HOST) environment variable is used.
      - Must be C(https://) (msal signs in over https only).
    type: str
    default: https://login.microsoftonline.com
  graph_url:
    description:
      - The Microsoft Graph root, without a version (C(/v1.0) is added). The token's scope is C(<graph_url>/.default).
      - Plain C(http://) is accepted only for a loopback host.
    type: str
    default: https://graph.microsoft.com
  validate_certs:
    description:
      - Verify the TLS certificates of O(authority_url) and O(graph_url). Switch off only for tests; a warning is shown.
    type: bool
    default: true
  ca_path:
    description:
      - Path of a PEM CA bundle to verify O(authority_url) and O(graph_url) with (for example behind a TLS-inspecting
        proxy).
    type: path
  timeout:
    description:
      - Seconds to wait for one answer. Every request (the sign-in's too) is retried on HTTP 429, 502, 503, 504 and
        lost connections, honouring C(Retry-After), at most 5 attempts and 60 seconds in all.
      - One deadline covers the connection and the whole answer of each attempt, so a server that sends its answer
        slowly cannot hold the task longer; such an answer is not retried. Answers over 4 MiB are refused.
      - A redirect from the token endpoint or Graph is never followed (it would carry a credential or the SCIM
        token to another host); the task fails naming its status and target host and O(authority_url) or
        O(graph_url).
    type: int
    default: 30
requirements:
  - requests (Python library, on the host that runs the module)
  - msal (Python library, on the host that runs the module)
notes:
  - An environment variable that is set but empty counts as unset.
  - Proxies are taken from the usual E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) environment variables.
  - The client secret, the private key and its passphrase, client assertions, the access token and the SCIM token
    never appear in messages, diffs or results.
attributes:
  action_group:
    description: Use C(group/resolver.scim.entra) in C(module_defaults) to set the Entra ID connection options once.
    support: full
    membership:
      - resolver.scim.entra
"""
