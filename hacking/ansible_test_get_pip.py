# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for ansible-test's pip bootstrap script (get-pip.py), for machines that cannot download it.

ansible-test runs it as ``python get_pip_X.py [pip options] pip==X --no-setuptools --no-wheel`` inside a fresh
virtual environment. We bring pip in with ensurepip and then let that pip install what was asked. ansible-test
sets PIP_CONFIG_FILE=/dev/null, so the CA bundle is passed explicitly from PIP_CERT or SSL_CERT_FILE.
"""

import os
import subprocess
import sys


def main():
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                          stdout=subprocess.DEVNULL)
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    cert = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    if cert and os.path.isfile(cert):
        command += ["--cert", cert]
    return subprocess.call(command + args)


if __name__ == "__main__":
    sys.exit(main())
