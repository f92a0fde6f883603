#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Compare the KTAP results of the kernel's driver selftests with the
expected-results file.

Usage: compare.py [-q] [-k KERNEL] EXPECTED KTAPDIR [TEST...]
       compare.py --list [-k KERNEL] EXPECTED

EXPECTED has one line per subtest:

    [KERNEL:] TEST SUBTEST STATUS  # reason

KERNEL, the optional first column, is "stock:" (the Debian kernel) or
"debug:" (Keel's debug kernel, scripts/debug-kernel): such a line holds
only on that kernel, a line without it on both. -k names the kernel the
results come from (default stock). --list prints the tests that KERNEL
runs, in the order of their first line.

TEST is the test's path under tools/testing/selftests/drivers/net (ping.py,
hw/csum.py), SUBTEST the name of its KTAP line without the "<test>."
prefix, STATUS one of PASS, FAIL, SKIP, XFAIL. Every status but PASS needs
a reason after '#': the device, emulator or driver limit behind it.
Blank lines and lines starting with '#' are comments.

There is no status for "passes in some runs": a subtest comes out one
way. A time window too short for the emulator is widened in ksft_env.py
instead, in the open.

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


KERNELS = ("stock", "debug")


def parse_expected(path, kernel="stock"):
    """Return {test: {subtest: (status, reason)}} in file order for
    KERNEL."""
    expected = {}
    errors = []
    for num, line in enumerate(Path(path).read_text().splitlines(), 1):
        body, _, reason = line.partition("#")
        fields = body.split()
        if not fields:
            continue
        where = f"{path}:{num}"
        if fields[0].endswith(":"):
            only = fields.pop(0)[:-1]
            if only not in KERNELS:
                errors.append(f"{where}: kernel must be one of "
                              f"{', '.join(k + ':' for k in KERNELS)}")
                continue
            if only != kernel:
                continue
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
            outcome = got.get(sub, "MISSING")
            yield test, sub, outcome, status, reason, outcome == status
        for sub, outcome in got.items():
            if sub not in want:
                yield test, sub, outcome, "UNLISTED", "", False


def main():
    """Print the report; exit status says whether everything matched."""
    args = sys.argv[1:]
    quiet = listing = False
    kernel = "stock"
    while args and args[0].startswith("-"):
        if args[0] == "-q":
            quiet = True
        elif args[0] == "--list":
            listing = True
        elif args[0] == "-k" and len(args) > 1 and args[1] in KERNELS:
            kernel = args.pop(1)
        else:
            args = []
            break
        args.pop(0)
    if len(args) < (1 if listing else 2):
        sys.exit("usage: compare.py [-q] [-k stock|debug] EXPECTED KTAPDIR "
                 "[TEST...]\n       compare.py --list [-k stock|debug] "
                 "EXPECTED")
    expected, errors = parse_expected(args[0], kernel)
    for err in errors:
        print(f"compare: {err}", file=sys.stderr)
    if errors:
        sys.exit(2)
    if listing:
        print("\n".join(expected))
        sys.exit(0)
    tests = args[2:] or list(expected)

    rows = list(compare(expected, args[1], tests))
    width = max([len(f"{t} {s}") for t, s, *_ in rows] + [20])
    counts = {}
    bad = 0
    for test, sub, outcome, status, reason, ok in rows:
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
