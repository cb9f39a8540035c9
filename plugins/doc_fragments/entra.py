# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of the Microsoft Entra ID modules (plugins/module_utils/entra.py holds the spec)."""


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - The Directory (tenant) ID of the Entra ID tenant, a GUID, or one of its verified domains
        (C(contoso.onmicrosoft.com)).
      - If not set, the value of the E(AZURE_TENANT_ID) environment variable is used, then E(AZURE_TENANT) (the name
        AWX's "Microsoft Azure Resource Manager" credential injects).
      - Required.
    type: str
  client_id:
    description:
      - The Application (client) ID of the app registration that calls Microsoft Graph, a GUID.
      - It needs the Graph application permission C(Synchronization.ReadWrite.All), or C(Application.ReadWrite.OwnedBy)
        (least privilege) with the app made an owner of the enterprise application, with admin consent.
      - If not set, the value of the E(AZURE_CLIENT_ID) environment variable is used.
      - Required.
    type: str
  client_secret:
    description:
      - A client secret of that app registration (its Value, not its Secret ID).
      - If not set, the value of the E(AZURE_CLIENT_SECRET) environment variable is used, then E(AZURE_SECRET) (the
        name AWX's "Microsoft Azure Resource Manager" credential injects).
      - Required. Certificate credentials are not supported.
    type: str
  authority_url:
    description:
      - The Entra ID authority host; the token is requested from C(<authority_url>/<tenant_id>/oauth2/v2.0/token).
      - Change it for a national cloud, for example C(https://login.microsoftonline.us) (with O(graph_url)
        C(https://graph.microsoft.us)), or for a test stand-in.
      - Plain C(http://) is accepted only for a loopback host.
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
      - Seconds to wait for one answer. Every request is retried on HTTP 429, 502, 503, 504 and lost connections,
        honouring C(Retry-After), at most 5 attempts and 60 seconds in all.
      - One deadline covers the connection and the whole answer of each attempt, so a server that sends its answer
        slowly cannot hold the task longer; such an answer is not retried. Answers over 4 MiB are refused.
      - A redirect from the token endpoint or Graph is never followed (it would carry the client secret or the SCIM
        token to another host); the task fails naming its status and target host and O(authority_url) or
        O(graph_url).
    type: int
    default: 30
requirements:
  - requests (Python library, on the host that runs the module)
notes:
  - An environment variable that is set but empty counts as unset.
  - Proxies are taken from the usual E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) environment variables.
  - The client secret, the access token and the SCIM token never appear in messages, diffs or results.
attributes:
  action_group:
    description: Use C(group/resolver.scim.entra) in C(module_defaults) to set the Entra ID connection options once.
    support: full
    membership:
      - resolver.scim.entra
"""
