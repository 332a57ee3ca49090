"""Counts the test cases in JUnit XML files (Bazel's test.xml files, the
consumer and docs checks) listed in a manifest of "suite<TAB>file" lines, and
prints one line per suite and then the total: 'N passed, N failed, N skipped'.
A listed file that is missing or unreadable counts as one failure (its target
did not build or did not run). Exit 1 on any failure."""
import sys
import xml.etree.ElementTree as ET


def count(path):
    """(passed, failed, skipped) of one JUnit file, or None if unreadable."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.get("result") == "skipped" or case.find("skipped") is not None or case.get("status") == "notrun":
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: test_summary.py MANIFEST (lines: suite<TAB>JUnit XML file)")
    suites = {}
    try:
        with open(sys.argv[1]) as f:
            entries = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
    except OSError as e:
        sys.exit(f"test_summary.py: cannot read the manifest: {e}")
    for suite, path in entries:
        totals = suites.setdefault(suite, [0, 0, 0])
        counts = count(path)
        if counts is None:
            print(f"{suite}: no results in {path}", file=sys.stderr)
            counts = (0, 1, 0)
        for i in range(3):
            totals[i] += counts[i]
    line = "{} passed, {} failed, {} skipped"
    for suite, totals in suites.items():
        print(f"{suite}: " + line.format(*totals))
    total = [sum(t[i] for t in suites.values()) for i in range(3)]
    print(line.format(*total))
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main())
