"""Lease names for per-site leadership are valid Kubernetes names and never shared."""

from __future__ import annotations

import re

from chargegrid.energy.leadership import work_name

NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def test_site_ids_become_valid_distinct_lease_names() -> None:
    names = [work_name(site) for site in ("Site_1", "site-1", "SITE 1", "é" * 80, "")]
    assert all(NAME.match(n) and len(n) <= 63 for n in names)
    assert len(set(names)) == len(names)
