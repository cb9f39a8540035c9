# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's request log, which many tests count requests in, holds only requests of the current test."""

import time
import urllib.error
import urllib.request

import pytest

from conftest import Emulator, start_server


def request_status(url, timeout):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_request_answered_after_a_reset_is_not_logged_into_the_next_test():
    """A delay fault outlives its client's timeout (the fault matrix does this): its late answer must not show up
    in the log of the test that reset the emulator meanwhile."""
    server = start_server()
    try:
        emulator = Emulator(server)
        emulator.reset()
        emulator.faults({"method": "GET", "delay": 1.5})
        with pytest.raises(OSError):  # a read timeout
            request_status(emulator.base + "/scim/Users", timeout=0.3)
        emulator.reset()
        time.sleep(2)  # the delayed answer goes out now
        assert emulator.log() == []
        assert request_status(emulator.base + "/scim/Users", timeout=5) == 401
        assert [(r["path"], r["status"]) for r in emulator.log()] == [("/scim/Users", 401)]
    finally:
        server.shutdown()
