"""The paper-table writer: measured cells beside SPEC 9's published numbers."""

import pandas as pd
import yaml

from bench.paper_tables import PUBLISHED, markdown, scenario


def test_published_numbers_are_spec_9():
    pub = yaml.safe_load(PUBLISHED.read_text())
    assert pub["bellcanada"]["0.5/128"] == [4.16, 1.11]
    assert pub["clustered-c0"]["0.1/64"] == [6.23, 1.92]
    assert sum(len(v) for v in pub.values()) == 12


def test_markdown_puts_measured_beside_published():
    df = pd.DataFrame({"instance": ["abovenet-s0"] * 2 + ["clustered-c2-s0"] * 2, "arrival_rate": [0.5] * 4,
                       "l_out": [128] * 4, "algorithm": ["petals", "proposed"] * 2,
                       "per_token_s": [2.0, 0.5, 1.0, 0.8]})
    text = markdown(df, yaml.safe_load(PUBLISHED.read_text()))
    assert "| abovenet | 0.5 | 128 | 2.000 -> 0.500 | 0.250 | 75.0% | 4.580 -> 1.350 | 0.295 | 70.5% |" in text
    assert "| clustered-c2 | 0.5 | 128 | 1.000 -> 0.800 | 0.800 | 20.0% | – | – | – |" in text
    assert scenario("clustered-c0-s12") == "clustered-c0"
