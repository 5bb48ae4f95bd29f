"""The paper-table writer: measured cells beside the published numbers (docs/published.md)."""

import pandas as pd
import yaml

from bench.paper_tables import PUBLISHED, markdown
from bench.results import scenario


def test_published_numbers_are_spec_9():
    pub = yaml.safe_load(PUBLISHED.read_text())
    assert pub["bellcanada"]["0.5/128"] == [4.16, 1.11]
    assert pub["clustered-c0"]["0.1/64"] == [6.23, 1.92]
    assert sum(len(v) for v in pub.values()) == 12


def test_markdown_puts_measured_beside_published():
    df = pd.DataFrame({"instance": ["abovenet-s0"] * 2 + ["abovenet-s1"] * 2 + ["clustered-c2-s0"] * 2,
                       "seed": [0, 0, 1, 1, 0, 0], "arrival_rate": [0.5] * 6, "l_out": [128] * 6,
                       "algorithm": ["petals", "proposed"] * 3, "per_token_s": [2.0, 0.5, 4.0, 0.7, 1.0, 0.8]})
    df["scenario"] = df.instance.map(scenario)
    text = markdown(df, yaml.safe_load(PUBLISHED.read_text()))
    # abovenet: mean over the two seeds, petals 3.0 and proposed 0.6
    assert "| abovenet | 0.5 | 128 | 2 | 3.000 -> 0.600 | 0.200 | 80.0% | 4.580 -> 1.350 | 0.295 | 70.5% |" in text
    assert "| clustered-c2 | 0.5 | 128 | 1 | 1.000 -> 0.800 | 0.800 | 20.0% | – | – | – |" in text
    assert scenario("clustered-c0-s12") == "clustered-c0"
