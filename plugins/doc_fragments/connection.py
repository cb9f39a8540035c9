# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every resolver.scim module (plugins/module_utils/_module.py holds the spec)."""


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Resolver environment, for example C(https://acme.resolver.com).
      - Used as given; add C(/api) when your deployment serves the API there. When the first request of a run
        finds nothing (HTTP 404), the message names the URL tried and the one to try (with or without C(/api)).
      - Plain C(http://) is refused for any host but loopback unless O(allow_plain_http=true). A C(*.localhost)
        name counts as loopback only when every address it resolves to is one.
      - A redirect is never followed, since it would carry the credential to another host; the task fails naming its
        status and target host. Set the URL it points to, if you trust it.
      - If not set, the value of the E(RESOLVER_URL) environment variable is used.
    type: str
  api_key:
    description:
      - A Resolver API key, created by an Administrator with C(POST /user/apiKey). It acts as one user in one org.
      - A leading C(Bearer ) (any case), as in a copied C(Authorization) header, is removed.
      - Mutually exclusive with O(username) and O(password).
      - If not set, the value of the E(RESOLVER_API_KEY) environment variable is used.
    type: str
  api_key_header:
    description:
      - "How the API key is sent. V(authorization) sends C(Authorization: Bearer <key>); V(x-api-key) sends an
        C(x-api-key) header, which some deployments want."
      - If not set, the value of the E(RESOLVER_API_KEY_HEADER) environment variable is used.
    type: str
    choices: [authorization, x-api-key]
    default: authorization
  username:
    description:
      - Email of a Resolver user, for session authentication (C(POST /user/authenticate)) together with
        O(password) and O(org_id). The 15-minute session token is renewed automatically.
      - If not set, the value of the E(RESOLVER_USERNAME) environment variable is used.
    type: str
  password:
    description:
      - Password of O(username).
      - If not set, the value of the E(RESOLVER_PASSWORD) environment variable is used.
    type: str
  org_id:
    description:
      - Internal id of the Resolver org (C(currentOrg.id) of C(GET /user/users/me)).
      - Required with O(username)/O(password), which log in to one org.
      - If not set, the value of the E(RESOLVER_ORG_ID) environment variable is used.
    type: int
  validate_certs:
    description:
      - Verify the server's TLS certificate. Switch off only for tests; a warning is shown when off.
      - If not set, the value of the E(RESOLVER_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - Path of a PEM CA bundle that signs the server certificate (a private CA or a TLS-inspecting proxy).
      - If not set, the value of the E(RESOLVER_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds to wait for Resolver to answer one request. Reads and deletes are retried on 429, 502, 503,
        504 and lost connections, honouring C(Retry-After), at most 5 attempts and 60 seconds in all.
      - One deadline covers the connection and the whole answer of each attempt, so a server that sends its answer
        slowly cannot hold the task longer; such an answer is not retried. Answers over 4 MiB are refused.
      - If not set, the value of the E(RESOLVER_TIMEOUT) environment variable is used.
    type: int
    default: 30
  allow_plain_http:
    description:
      - Allow an C(http://) O(url) to a host other than loopback. Credentials and tokens then travel
        unencrypted; a warning is shown.
    type: bool
    default: false
  email_domains_format:
    description:
      - How C(emailDomains) is sent to Resolver, which is not documented publicly.
      - V(auto) sends the form Resolver itself uses in its token list; with no token to learn from it sends a
        comma-separated string and, if Resolver refuses that with HTTP 400, a JSON array.
      - V(list) always sends a JSON array of strings; V(string) always sends a comma-separated string.
      - If not set, the value of the E(RESOLVER_EMAIL_DOMAINS_FORMAT) environment variable is used.
    type: str
    choices: [auto, list, string]
    default: auto
requirements:
  - requests (Python library, on the host that runs the module)
notes:
  - An environment variable that is set but empty counts as unset (an AWX credential injects every variable of its
    type, the unused ones empty).
  - Whitespace around O(url), O(api_key), O(username) and O(password) is removed (C(echo "$KEY" | ansible-vault
    encrypt_string) keeps a newline); a line break, tab or invisible character inside one is refused, naming the
    option, never quoting the value.
  - Proxies are taken from the usual E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) environment variables, except
    that a plain C(http://) request never goes through a proxy, which would read the credential.
  - Secrets (O(api_key), O(password), session and SCIM tokens) never appear in messages, diffs or tracebacks.
    ansible-core itself prints module arguments with C(ANSIBLE_DEBUG=1) and keeps them on disk with
    C(ANSIBLE_KEEP_REMOTE_FILES=1).
"""
