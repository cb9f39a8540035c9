# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token decision logic as a pure function, table-driven, plus property tests of the wire readers."""

import datetime
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.resolver.scim.plugins.module_utils._api import (
    domains_from_wire,
    parse_timestamp,
    token_from_wire,
)
from ansible_collections.resolver.scim.plugins.module_utils._errors import InputError, ResponseFormatError
from ansible_collections.resolver.scim.plugins.module_utils._token_service import execute_token_plan
from ansible_collections.resolver.scim.plugins.module_utils._tokens import (
    ScimToken,
    check_days,
    check_name,
    decide,
    normalize_domains,
)

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)
DOMAINS = ("acme.com", "acme.org")


def token(id, days_left, name="okta", domains=DOMAINS, age_days=None):  # pylint: disable=redefined-builtin
    expires = NOW + datetime.timedelta(days=days_left)
    created = expires - datetime.timedelta(days=730)
    if age_days is not None:
        created = NOW - datetime.timedelta(days=age_days)
    return ScimToken(id, name, 100, domains, created, expires)


LIVE = token(1, 600)
EXPIRING = token(2, 12)
EXPIRED = token(3, -5)
OTHER_DOMAINS = token(4, 600, domains=["acme.com"])
OLDER_LIVE = token(5, 400)
UNRELATED = token(9, 600, name="entra-id")

# (scenario, tokens) x state -> (action, create, revoked ids, kept ids, reason fragment)
SITUATIONS = {
    "no token": [UNRELATED],
    "live": [LIVE, UNRELATED],
    "expiring": [EXPIRING],
    "expired": [EXPIRED],
    "other domains": [OTHER_DOMAINS],
    "duplicates": [OLDER_LIVE, LIVE],
    "superseded expired + live": [EXPIRED, LIVE],
}

EXPECTED = {
    ("present", "no token"): ("created", True, [], "no token named 'okta' exists"),
    ("present", "live"): ("none", False, [], "token 1 is live for 600 days more"),
    ("present", "expiring"): ("renewed", True, [2], "token 2 expires in 12 days, inside rotate_before_days=30"),
    ("present", "expired"): ("created", True, [3], "every token named 'okta' has expired"),
    ("present", "other domains"): ("recreated", True, [4], "token 4 covers acme.com, but email_domains asks for"),
    ("present", "duplicates"): ("revoked", False, [5], "revoking superseded token(s) 5"),
    ("present", "superseded expired + live"): ("revoked", False, [3], "revoking superseded token(s) 3"),
    ("rotated", "no token"): ("rotated", True, [], "state=rotated"),
    ("rotated", "live"): ("rotated", True, [1], "to replace token 1"),
    ("rotated", "expiring"): ("rotated", True, [2], "to replace token 2"),
    ("rotated", "expired"): ("rotated", True, [3], "state=rotated"),
    ("rotated", "other domains"): ("rotated", True, [4], "to replace token 4"),
    ("rotated", "duplicates"): ("rotated", True, [1, 5], "to replace token 1"),
    ("rotated", "superseded expired + live"): ("rotated", True, [1, 3], "to replace token 1"),
    ("absent", "no token"): ("none", False, [], "no token named 'okta' exists"),
    ("absent", "live"): ("deleted", False, [1], "1 token(s) named 'okta'"),
    ("absent", "expiring"): ("deleted", False, [2], "token(s) named 'okta'"),
    ("absent", "expired"): ("deleted", False, [3], "token(s) named 'okta'"),
    ("absent", "other domains"): ("deleted", False, [4], "token(s) named 'okta'"),
    ("absent", "duplicates"): ("deleted", False, [5, 1], "2 token(s) named 'okta'"),
    ("absent", "superseded expired + live"): ("deleted", False, [3, 1], "2 token(s)"),
}


@pytest.mark.parametrize("state, situation", sorted(EXPECTED))
@pytest.mark.parametrize("previous", ["revoke", "keep"])
def test_decision_table(state, situation, previous):
    action, create, replaced, reason = EXPECTED[(state, situation)]
    if previous == "keep" and action == "revoked":
        # Nothing to create and superseded tokens are to be kept: nothing to do.
        action, reason = "none", "kept (previous=keep)"
    plan = decide(state, "okta", SITUATIONS[situation], NOW, email_domains=DOMAINS, previous=previous)
    assert plan.action == action
    assert plan.create is create
    assert reason in plan.reason
    assert plan.failure is None
    handled = sorted(t.id for t in plan.revoke + plan.keep)
    assert handled == sorted(replaced)
    if state == "absent" or previous == "revoke":
        assert sorted(t.id for t in plan.revoke) == sorted(replaced)
    else:
        assert plan.revoke == []
    assert UNRELATED not in plan.revoke
    assert plan.changed == (create or bool(plan.revoke))


class RecordingApi:
    """Stands in for ResolverApi (not for requests): records what execute_token_plan() asks of Resolver."""

    def __init__(self):
        self.calls = []

    def caller_membership_id(self):
        self.calls.append(("membership",))
        return 100

    def create_token(self, membership_id, name, email_domains):
        self.calls.append(("create", name))
        return ScimToken(50, name, membership_id, email_domains, NOW, NOW + datetime.timedelta(days=730)), "s3cr3t"

    def delete_token(self, token_id):
        self.calls.append(("delete", token_id))
        return True


@pytest.mark.parametrize("state, situation", sorted(EXPECTED))
def test_check_mode_sends_nothing_and_reports_the_same(state, situation):
    tokens = SITUATIONS[situation]
    plan = decide(state, "okta", tokens, NOW, email_domains=DOMAINS)
    dry, real = RecordingApi(), RecordingApi()
    dry_result, dry_diff = execute_token_plan(dry, plan, "okta", DOMAINS, NOW, True, tokens=tokens)
    real_result = execute_token_plan(real, plan, "okta", DOMAINS, NOW, False, tokens=tokens)[0]
    assert dry.calls == []
    assert "token" not in dry_result and "s3cr3t" not in repr(dry_diff)
    assert (dry_result["action"], dry_result["reason"]) == (real_result["action"], real_result["reason"])
    expected = ([("membership",), ("create", "okta")] if plan.create else []) + \
        [("delete", t.id) for t in plan.revoke]
    assert real.calls == expected  # create first, revoke last
    assert ("token" in real_result) is plan.create


def test_recreate_never_fails_and_changes_nothing():
    plan = decide("present", "okta", [OTHER_DOMAINS], NOW, email_domains=DOMAINS, recreate="never")
    assert plan.failure and "recreate=never" in plan.failure and "acme.com" in plan.failure
    assert plan.changed is False and plan.create is False


def test_rotate_before_days_zero_only_renews_expired():
    assert decide("present", "okta", [EXPIRING], NOW, DOMAINS, rotate_before_days=0).action == "none"
    assert decide("present", "okta", [EXPIRING], NOW, DOMAINS, rotate_before_days=13).action == "renewed"
    assert decide("present", "okta", [EXPIRING], NOW, DOMAINS, rotate_before_days=12).action == "none"


def test_keep_lists_superseded_without_revoking():
    plan = decide("present", "okta", [OLDER_LIVE, LIVE], NOW, DOMAINS, previous="keep")
    assert plan.action == "none" and [t.id for t in plan.keep] == [5] and "kept (previous=keep)" in plan.reason


def test_never_revokes_a_token_newer_than_current():
    newest = token(7, 700, age_days=1)
    plan = decide("present", "okta", [newest, LIVE, OLDER_LIVE], NOW, DOMAINS)
    assert plan.current is newest
    assert sorted(t.id for t in plan.revoke) == [1, 5]


def test_absent_by_token_id():
    assert decide("absent", "okta", [OLDER_LIVE, LIVE], NOW, token_id=5).revoke == [OLDER_LIVE]
    assert decide("absent", "okta", [LIVE], NOW, token_id=77).action == "none"
    plan = decide("absent", "okta", [UNRELATED], NOW, token_id=9)
    assert plan.failure and "named 'entra-id'" in plan.failure and not plan.revoke


# ----- input checks -------------------------------------------------------------------------------------

def test_domains_are_normalised():
    assert normalize_domains([" Acme.COM", "acme.org", "acme.com"]) == ["acme.com", "acme.org"]


@pytest.mark.parametrize("bad, fragment", [
    ([], "at least one"),
    ([""], "empty value"),
    (["  "], "empty value"),
    (["admin@acme.com"], "contains '@'"),
    (["acme .com"], "contains a space"),
    (["acme"], "not a valid domain name"),
    (["-acme.com"], "not a valid domain name"),
    (["acme..com"], "not a valid domain name"),
    (["acme.c0m"], "not a valid domain name"),
    (["a" * 64 + ".com"], "not a valid domain name"),
    (["acme_corp.com"], "not a valid domain name"),
    (["bücher.de"], "not a valid domain name"),
    ([42], "must be a list of domain names"),
])
def test_bad_domains_name_the_option_and_value(bad, fragment):
    with pytest.raises(InputError) as info:
        normalize_domains(bad)
    assert "email_domains" in str(info.value) and fragment in str(info.value)


@pytest.mark.parametrize("name", ["", "  ", "x" * 256, " okta"])
def test_bad_names(name):
    with pytest.raises(InputError, match="^name"):
        check_name(name)


@pytest.mark.parametrize("days", [-1, 730, 100000, None])
def test_bad_day_counts(days):
    with pytest.raises(InputError, match="rotate_before_days must be a whole number of days from 0 to 729"):
        check_days(days, "rotate_before_days")


# ----- property tests ------------------------------------------------------------------------------------

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
DOMAIN = st.builds(lambda labels, tld: ".".join(labels + [tld]), st.lists(LABEL, min_size=1, max_size=3),
                   st.from_regex(r"[a-z]{2,6}", fullmatch=True))


@given(st.lists(DOMAIN, min_size=1, max_size=6), st.randoms())
def test_normalisation_is_order_case_and_space_insensitive(domains, rnd):
    shuffled = [(" " if rnd.random() < 0.5 else "") + d.upper() + " " for d in domains]
    rnd.shuffle(shuffled)
    result = normalize_domains(shuffled)
    assert result == sorted(set(domains))
    assert normalize_domains(result) == result


@given(st.lists(st.text(max_size=20), min_size=1, max_size=4))
def test_normalisation_never_crashes(values):
    try:
        result = normalize_domains(values)
    except InputError as exc:
        assert "email_domains" in str(exc)
    else:
        assert result == sorted(set(result)) and all("@" not in d and " " not in d for d in result)


@given(st.datetimes(min_value=datetime.datetime(1971, 1, 1), max_value=datetime.datetime(2200, 1, 1)),
       st.sampled_from(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.{ms}Z",
                        "%Y-%m-%dT%H:%M:%S.{ms}", "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%d %H:%M:%S"]))
def test_timestamps_in_every_assumed_form(moment, form):
    text = moment.strftime(form).replace("{ms}", "%03d" % (moment.microsecond // 1000))
    parsed = parse_timestamp(text)
    expected = moment.replace(tzinfo=datetime.timezone.utc)
    if "{ms}" in form:
        expected = expected.replace(microsecond=(moment.microsecond // 1000) * 1000)
    else:
        expected = expected.replace(microsecond=0)
    assert parsed == expected


def test_timestamp_offsets_are_converted_to_utc():
    assert parse_timestamp("2026-11-28T14:00:00+02:00") == NOW
    assert parse_timestamp("2026-11-28T07:30:00-0430") == NOW


@given(st.text(max_size=40))
def test_timestamp_parser_never_crashes(text):
    try:
        parse_timestamp(text)
    except ValueError:
        pass


SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=4), max_leaves=12)
TOKEN_FIELDS = st.fixed_dictionaries({}, optional={
    "id": st.integers(min_value=-5, max_value=10 ** 6) | st.text(max_size=5) | JSON,
    "name": st.text(max_size=10) | JSON,
    "orgMembershipId": st.integers(min_value=0, max_value=10 ** 6) | JSON,
    "emailDomains": st.lists(st.text(max_size=10), max_size=3) | st.text(max_size=20) | JSON,
    "createdOn": st.just("2026-11-28T12:00:00.000Z") | st.text(max_size=25) | JSON,
    "tokenExpiry": st.just("2028-11-28T12:00:00Z") | st.text(max_size=25) | JSON,
})


@settings(max_examples=300)
@given(JSON | TOKEN_FIELDS)
def test_token_reader_on_arbitrary_json_gives_a_token_or_a_clean_error(data):
    data = json.loads(json.dumps(data))
    try:
        parsed = token_from_wire(data)
    except ResponseFormatError as exc:
        assert "SCIM token" in exc.message
    else:
        assert isinstance(parsed.id, int) and isinstance(parsed.name, str)
        assert all(isinstance(d, str) for d in parsed.email_domains)


@pytest.mark.parametrize("wire", [["acme.com", "acme.org"], "acme.com,acme.org", " acme.org , ACME.com ",
                                  ["acme.com,acme.org"]])
def test_domains_from_either_wire_form(wire):
    assert domains_from_wire(wire) == ("acme.com", "acme.org")


TOKEN_SETS = st.lists(st.tuples(st.sampled_from(["okta", "entra"]), st.integers(-800, 0),
                                st.sampled_from([("acme.com",), ("acme.com", "acme.org"), ("other.com",)])),
                      max_size=5)


def _tokens(specs):
    """Org tokens from (name, created days from NOW, domains), ids in creation order as Resolver assigns them."""
    ordered = sorted(specs, key=lambda spec: spec[1])
    return [ScimToken(id=i + 1, name=name, email_domains=domains, created=NOW + datetime.timedelta(days=days))
            for i, (name, days, domains) in enumerate(ordered)]


def _apply(plan, tokens, name, domains):
    """What the org looks like after ``plan`` ran: the new token added, the revoked ones gone."""
    revoked = {t.id for t in plan.revoke}
    after = [t for t in tokens if t.id not in revoked]
    if plan.create:
        after.append(ScimToken(id=max([t.id for t in tokens] + [0]) + 1, name=name, email_domains=domains,
                               created=NOW))
    return after


@given(TOKEN_SETS, st.sampled_from(["present", "absent", "rotated"]), st.sampled_from([("acme.com",),
       ("acme.com", "acme.org")]), st.integers(0, 729), st.sampled_from(["revoke", "keep"]))
def test_decision_converges_and_never_touches_newer_or_other_tokens(specs, state, domains, days, previous):
    tokens = _tokens(specs)
    plan = decide(state, "okta", tokens, NOW, email_domains=domains, rotate_before_days=days, previous=previous)
    # Only tokens of this name are revoked, never the one kept as current, and keep/revoke do not overlap.
    assert all(t.name == "okta" for t in plan.revoke + plan.keep)
    assert plan.current is None or plan.current not in plan.revoke
    assert not {t.id for t in plan.revoke} & {t.id for t in plan.keep}
    if plan.create:
        assert state != "absent" and plan.action in ("created", "renewed", "recreated", "rotated")
    if previous == "keep" and plan.create:
        assert plan.revoke == []
    after = _apply(plan, tokens, "okta", domains)
    if state == "absent":
        assert not [t for t in after if t.name == "okta"]
        return
    # One run is enough: deciding again on the result has nothing left to create (rotated always creates).
    again = decide("present", "okta", after, NOW, email_domains=domains, rotate_before_days=days, previous=previous)
    assert not again.create, (plan, again)
    if previous == "revoke":
        assert again.action == "none" and [t.name for t in after].count("okta") == 1


@pytest.mark.parametrize("left, days", [
    # A new two-year token, read a moment before it was made (the module's clock) and a minute after.
    (datetime.timedelta(days=730, milliseconds=40), 730),
    (datetime.timedelta(days=730) - datetime.timedelta(minutes=1), 730),
    (datetime.timedelta(days=729, hours=11), 729),
    (datetime.timedelta(days=29, hours=13), 30),
    (datetime.timedelta(hours=-2), 0),
    (datetime.timedelta(days=-3, hours=-1), -3),
])
def test_days_to_expiry_is_rounded_to_the_nearest_day(left, days):
    new = ScimToken(1, "okta", 100, DOMAINS, NOW, NOW + left)
    assert new.days_to_expiry(NOW) == days
