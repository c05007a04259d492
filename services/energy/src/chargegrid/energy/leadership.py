"""One controller per site in the whole deployment: the seam for leader election.

Each site's control loop runs under an `Elector` for the work "energy-site-<site>":
outside Kubernetes (one process) `LocalElector` makes this process the leader of every
site; in a pod, `elector_for` returns a `LeaseElector` on a Lease per site, so with several
replicas exactly one sends profiles for a site while the others answer reads with a
preview. Site ids are turned into valid Lease names (lowercase, [a-z0-9-], bounded, with a
hash so two ids never share a Lease).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from chargegrid.platform.leader import Elector, elector_for

ElectorFactory = Callable[[str], Elector]


def work_name(site_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", site_id.lower()).strip("-")[:30] or "site"
    digest = hashlib.sha256(site_id.encode()).hexdigest()[:8]
    return f"energy-site-{slug}-{digest}"


def default_elector(site_id: str) -> Elector:
    return elector_for(work_name(site_id))
