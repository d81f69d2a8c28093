"""The versions the project's lock files pin (requirements/*.txt), for tests that install a
package into an environment of their own and must not take whatever the index serves today."""

from __future__ import annotations

import re

from tests.support.relay_server import REPO


def pinned(lock: str, package: str) -> str:
    """The version `requirements/<lock>` pins for `package` ("2.75.0")."""
    text = (REPO / "requirements" / lock).read_text()
    match = re.search(rf"^{re.escape(package)}==([^\s#;]+)", text, re.M | re.I)
    assert match, f"requirements/{lock} pins no {package}"
    return match.group(1)
