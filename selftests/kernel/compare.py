#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Compare the KTAP results of the kernel's driver selftests with the
expected-results file.

Usage: compare.py [-q] EXPECTED KTAPDIR [TEST...]

EXPECTED has one line per subtest:

    TEST SUBTEST STATUS  # reason

TEST is the test's path under tools/testing/selftests/drivers/net (ping.py,
hw/csum.py), SUBTEST the name of its KTAP line without the "<test>."
prefix, STATUS one of PASS, FAIL, SKIP, XFAIL. Every status but PASS needs
a reason after '#': the device, emulator or driver limit behind it.
Blank lines and lines starting with '#' are comments.

The results of TEST are read from KTAPDIR/<TEST with '/' as '_'>.ktap.
A subtest matches when its KTAP outcome is its expected status: "ok" is
PASS, "ok ... # SKIP" SKIP, "ok ... # XFAIL" XFAIL, "not ok" FAIL. A
subtest that ran but is not listed, or is listed but did not run, does
not match. Prints one line per subtest (outcome, expectation, match) and
a summary; -q prints nothing. Exits 0 when everything matched, 1 when
something did not, 2 when EXPECTED is malformed.
"""

import re
import sys
from pathlib import Path

STATUSES = ("PASS", "FAIL", "SKIP", "XFAIL")
KTAP_LINE = re.compile(r"^(not )?ok \d+ (\S+)(?:\s+#\s*(\S+)(.*))?$")


def parse_expected(path):
    """Return {test: {subtest: (status, reason)}} in file order."""
    expected = {}
    errors = []
    for num, line in enumerate(Path(path).read_text().splitlines(), 1):
        body, _, reason = line.partition("#")
        fields = body.split()
        if not fields:
            continue
        where = f"{path}:{num}"
        if len(fields) != 3 or fields[2] not in STATUSES:
            errors.append(f"{where}: want 'TEST SUBTEST STATUS  # reason'")
            continue
        test, sub, status = fields
        reason = reason.strip()
        if status != "PASS" and not reason:
            errors.append(f"{where}: {status} needs a reason after '#'")
        subs = expected.setdefault(test, {})
        if sub in subs:
            errors.append(f"{where}: {test} {sub} listed twice")
        subs[sub] = (status, reason)
    return expected, errors


def ktap_file(ktapdir, test):
    """Where the runner keeps TEST's KTAP output."""
    return Path(ktapdir) / (test.replace("/", "_") + ".ktap")


def parse_ktap(path, test):
    """Return {subtest: outcome} from a test's top-level KTAP lines."""
    prefix = Path(test).stem + "."
    results = {}
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return results
    for line in lines:
        m = KTAP_LINE.match(line)
        if not m:
            continue
        notok, name, directive, _ = m.groups()
        sub = name[len(prefix):] if name.startswith(prefix) else "(whole)"
        directive = (directive or "").upper()
        if notok:
            outcome = "FAIL"
        elif directive in ("SKIP", "XFAIL"):
            outcome = directive
        else:
            outcome = "PASS"
        results[sub] = outcome
    return results


def compare(expected, ktapdir, tests):
    """Yield (test, subtest, outcome, expected status, reason) rows."""
    for test in tests:
        want = expected.get(test, {})
        got = parse_ktap(ktap_file(ktapdir, test), test)
        for sub, (status, reason) in want.items():
            yield test, sub, got.get(sub, "MISSING"), status, reason
        for sub, outcome in got.items():
            if sub not in want:
                yield test, sub, outcome, "UNLISTED", ""


def main():
    """Print the report; exit status says whether everything matched."""
    args = sys.argv[1:]
    quiet = bool(args) and args[0] == "-q"
    if quiet:
        args = args[1:]
    if len(args) < 2:
        sys.exit("usage: compare.py [-q] EXPECTED KTAPDIR [TEST...]")
    expected, errors = parse_expected(args[0])
    for err in errors:
        print(f"compare: {err}", file=sys.stderr)
    if errors:
        sys.exit(2)
    tests = args[2:] or list(expected)

    rows = list(compare(expected, args[1], tests))
    width = max([len(f"{t} {s}") for t, s, *_ in rows] + [20])
    counts = {}
    bad = 0
    for test, sub, outcome, status, reason in rows:
        ok = outcome == status
        if ok:
            counts[outcome] = counts.get(outcome, 0) + 1
        else:
            bad += 1
        if quiet:
            continue
        if ok:
            verdict = "as expected"
        elif status == "UNLISTED":
            verdict = "UNEXPECTED (not in the expected-results file)"
        else:
            verdict = f"UNEXPECTED (expected {status})"
        note = f"  {reason}" if ok and reason else ""
        print(f"{test + ' ' + sub:<{width}}  {outcome:<7} {verdict}{note}")
    if not quiet:
        parts = ", ".join(f"{counts[s]} {s.lower()}"
                          for s in STATUSES if s in counts)
        print(f"kernel selftests: {len(rows)} subtests, "
              f"{len(rows) - bad} as expected ({parts or 'none'}), "
              f"{bad} unexpected")
    sys.exit(1 if bad or not rows else 0)


if __name__ == "__main__":
    main()
