"""docs/upgrading-to-sentry-python-3.md is what `make sdk-diff` rendered from its run's figures
(committed beside it as .json): rendering them again gives the page, byte for byte."""

from __future__ import annotations

import json

from bench.sdk_diff import DOC, DOC_DATA, render_doc


def test_the_upgrade_page_is_the_rendering_of_its_committed_figures() -> None:
    results = json.loads(DOC_DATA.read_text())

    assert DOC.read_text() == render_doc(results)
    assert {major["sdk_version"].split(".")[0] for major in results["majors"].values()} == {"2", "3"}
    assert results["requests"] >= 20
