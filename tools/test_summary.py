"""Counts GoogleTest cases in the test.xml files Bazel wrote for the given
test targets and prints 'N passed, N failed, N skipped'. Exit 1 on any failure
or on a target without results (it did not build or did not run)."""
import os
import sys
import xml.etree.ElementTree as ET


def main():
    testlogs, labels = sys.argv[1], sys.argv[2:]
    passed = failed = skipped = 0
    missing = []
    for label in labels:
        package, _, name = label.lstrip("/").partition(":")
        path = os.path.join(testlogs, package, name, "test.xml")
        if not os.path.exists(path):
            missing.append(label)
            continue
        for case in ET.parse(path).getroot().iter("testcase"):
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
