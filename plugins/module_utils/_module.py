# -*- coding: utf-8 -*-
# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every resolver.scim module shares: the connection options and the run/exit harness."""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.resolver.scim.plugins.module_utils._api import DOMAIN_FORMATS, ResolverApi
from ansible_collections.resolver.scim.plugins.module_utils._env import env_fallback
from ansible_collections.resolver.scim.plugins.module_utils._transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, redact
from ansible_collections.resolver.scim.plugins.module_utils._client import API_KEY_HEADERS, ResolverClient
from ansible_collections.resolver.scim.plugins.module_utils._errors import PATH_LIKE, InputError, ResolverError, quoted


# The one table of connection options; documented in plugins/doc_fragments/connection.py.
CONNECTION_ARGUMENT_SPEC = dict(
    url=dict(type="str", fallback=(env_fallback, ["RESOLVER_URL"])),
    api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["RESOLVER_API_KEY"])),
    api_key_header=dict(type="str", choices=list(API_KEY_HEADERS), default="authorization", no_log=False,
                        fallback=(env_fallback, ["RESOLVER_API_KEY_HEADER"])),
    username=dict(type="str", fallback=(env_fallback, ["RESOLVER_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["RESOLVER_PASSWORD"])),
    org_id=dict(type="int", fallback=(env_fallback, ["RESOLVER_ORG_ID"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["RESOLVER_VALIDATE_CERTS"])),
    ca_path=dict(type="path", fallback=(env_fallback, ["RESOLVER_CA_PATH"])),
    timeout=dict(type="int", default=30, fallback=(env_fallback, ["RESOLVER_TIMEOUT"])),
    allow_plain_http=dict(type="bool", default=False),
    email_domains_format=dict(type="str", choices=list(DOMAIN_FORMATS), default="auto",
                              fallback=(env_fallback, ["RESOLVER_EMAIL_DOMAINS_FORMAT"])),
)


def resolver_module(argument_spec, **kwargs):
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update(argument_spec)
    return AnsibleModule(argument_spec=spec, **kwargs)


def build_api(module):
    """Check the connection options (before any request) and return a ResolverApi."""
    params = module.params
    if params["timeout"] is not None and params["timeout"] <= 0:
        raise InputError("timeout must be a positive number of seconds; got %s." % params["timeout"])
    if params["ca_path"]:
        if not os.path.isfile(params["ca_path"]):
            raise InputError("ca_path %s does not exist or is not a file; give a PEM CA bundle."
                             % quoted(params["ca_path"], PATH_LIKE))
    if not params["validate_certs"]:
        module.warn("validate_certs is false: the Resolver server certificate is not checked, so anyone on the "
                    "network path could read the credentials and tokens. Prefer ca_path with your CA bundle.")
    client = ResolverClient(
        url=params["url"],
        api_key=params["api_key"],
        api_key_header=params["api_key_header"],
        username=params["username"],
        password=params["password"],
        org_id=params["org_id"],
        validate_certs=params["validate_certs"],
        ca_path=params["ca_path"],
        timeout=params["timeout"],
        allow_plain_http=params["allow_plain_http"],
    )
    if params["allow_plain_http"] and client.base_url.startswith("http://"):
        module.warn("allow_plain_http is true: credentials are sent to %s without encryption." % client.base_url)
    return ResolverApi(client, email_domains_format=params["email_domains_format"])


def run_module(module, run, connect=build_api):
    """Call ``run(module, connect(module)) -> (changed, result, diff)`` and exit; every failure becomes a clean
    fail_json. ``connect`` checks the connection options and returns the service's API object (Resolver's by
    default; entra_provisioning gives its Graph client), which knows the ``secrets`` it sent or received.

    An unexpected exception is reported too. Every traceback passed on (shown with ANSIBLE_DISPLAY_TRACEBACK or
    -vvv) has every known secret redacted: left to itself, ansible-core would format the exception chain, whose
    text (a refused header, a request body) may quote a credential.
    """
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    api = None

    def fail(msg, **result):
        secrets = set(module.no_log_values) | set(api.secrets if api else ())
        module.fail_json(msg=redact(msg, secrets), exception=redact(traceback.format_exc(), secrets), **result)

    try:
        api = connect(module)
        changed, result, diff = run(module, api)
    except ResolverError as exc:
        # Some failures still carry facts the user must get (a new token that failed verification).
        fail(exc.message, **getattr(exc, "result", {}))
    except InputError as exc:
        fail(str(exc))
    except Exception as exc:  # pylint: disable=broad-except
        fail("Unexpected error (%s: %s); known secrets are redacted from this message. Please report it as a "
             "resolver.scim bug." % (type(exc).__name__, exc))
    if diff is not None:
        result["diff"] = diff
    module.exit_json(changed=changed, **result)
