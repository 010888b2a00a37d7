"""Safe slugs for folder names (phasefire.workflows.naming)."""

import re

from phasefire.workflows.naming import safe_slug


def test_safe_names_are_kept():
    assert safe_slug("cspbbr3-cubic") == "cspbbr3-cubic"
    assert safe_slug("Ag2Se_alpha.v2") == "Ag2Se_alpha.v2"


def test_hostile_names_become_distinct_safe_slugs():
    hostile = ["x;touch $(pwned);y", "x`id`y", "a'b\"c", "line\nbreak", "../../etc", "-rf", "x;touch $(pwnee);y"]
    slugs = [safe_slug(name) for name in hostile]
    assert all(re.fullmatch(r"[A-Za-z0-9._+][A-Za-z0-9._+-]*", s) for s in slugs), slugs
    assert len(set(slugs)) == len(hostile)
    assert all(len(s) <= 80 for s in slugs + [safe_slug("a" * 500)])
