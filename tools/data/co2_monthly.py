#!/usr/bin/env python3
"""Weekly Mauna Loa CO2 (statsmodels' co2.csv, copied to data/series/co2_weekly.csv) -> monthly means.

Each month's value is the mean of the weeks dated in that month that have a reading (empty readings are skipped).
Five months have no reading at all (1958-06, 1958-10, 1964-02..04); the monthly series starts at 1965-01, the first
full year after the last of them, so it has no gap and needs no interpolation. Standard library only.

Usage: python3 tools/data/co2_monthly.py data/series/co2_weekly.csv data/series/co2_monthly.csv
"""
import csv
import sys


def main(source: str, destination: str) -> None:
    months: dict[str, list[float]] = {}
    with open(source, newline="") as f:
        reader = csv.reader(f)
        if next(reader) != ["date", "co2"]:
            sys.exit(f"{source}: expected the header date,co2")
        for line, (date, value) in enumerate(reader, start=2):
            if len(date) != 8 or not date.isdigit():
                sys.exit(f"{source}:{line}: expected a date YYYYMMDD, got {date!r}")
            readings = months.setdefault(f"{date[:4]}-{date[4:6]}", [])
            if value.strip():
                readings.append(float(value))
    keys = [k for k in months if k >= "1965-01"]
    missing = [k for k in keys if not months[k]]
    if missing:
        sys.exit(f"{source}: months without any reading after 1965-01: {missing}")
    with open(destination, "w", newline="") as f:
        f.write("month,co2\n")
        for k in keys:
            f.write(f"{k},{sum(months[k]) / len(months[k]):.3f}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
