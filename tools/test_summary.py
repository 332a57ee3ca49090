"""Counts GoogleTest cases in the test.xml files Bazel wrote for the given
test targets (and in extra JUnit files given with --extra FILE), and prints
'N passed, N failed, N skipped'. Exit 1 on any failure or on a target or
extra file without results (it did not build or did not run)."""
import os
import sys
import xml.etree.ElementTree as ET


def main():
    args = sys.argv[1:]
    testlogs, extra, labels = args[0], [], []
    rest = iter(args[1:])
    for a in rest:
        if a == "--extra":
            extra.append(next(rest))
        else:
            labels.append(a)
    files = []
    for label in labels:
        package, _, name = label.lstrip("/").partition(":")
        files.append((label, os.path.join(testlogs, package, name, "test.xml")))
    files += [(path, path) for path in extra]
    passed = failed = skipped = 0
    missing = []
    for label, path in files:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError):
            missing.append(label)
            continue
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif case.get("result") == "skipped" or case.find("skipped") is not None or case.get("status") == "notrun":
                skipped += 1
            else:
                passed += 1
    for label in missing:
        print(f"no results for {label}", file=sys.stderr)
    failed += len(missing)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
