#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Compare the KTAP results of the kernel's driver selftests with the
expected-results file.

Usage: compare.py [-q] [-k KERNEL] EXPECTED KTAPDIR [TEST...]
       compare.py --list [-k KERNEL] EXPECTED

EXPECTED has one line per subtest:

    [KERNEL:] TEST SUBTEST STATUS  # reason
    [KERNEL:] TEST SUBTEST TIMED LINE  # reason

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

TIMED is for a subtest with a time limit that the emulator's speed meets
in some runs and misses in others: the subtest must pass, or fail only at
the check on line LINE of its own function (the ksft "Check| At ..., line
LINE, in SUBTEST" trace). Any other failed check, or an exception, does
not match, so every other assertion of the subtest still holds.

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

STATUSES = ("PASS", "FAIL", "SKIP", "XFAIL", "TIMED")
KTAP_LINE = re.compile(r"^(not )?ok \d+ (\S+)(?:\s+#\s*(\S+)(.*))?$")
CHECK_AT = re.compile(r"^#\s*Check\| At .*, line (\d+), in (\S+):$")
EXCEPTION = re.compile(r"^#\s*(Defer )?Exception\|")


KERNELS = ("stock", "debug")


def parse_expected(path, kernel="stock"):
    """Return {test: {subtest: (status, line, reason)}} in file order for
    KERNEL; line is the allowed check line of a TIMED subtest, else
    None."""
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
        timed = len(fields) == 4 and fields[2] == "TIMED"
        if timed and not fields[3].isdigit():
            errors.append(f"{where}: want 'TEST SUBTEST TIMED LINE'")
            continue
        if not timed and (len(fields) != 3 or fields[2] not in STATUSES or
                          fields[2] == "TIMED"):
            errors.append(f"{where}: want 'TEST SUBTEST STATUS  # reason'")
            continue
        test, sub, status = fields[:3]
        line = int(fields[3]) if timed else None
        reason = reason.strip()
        if status != "PASS" and not reason:
            errors.append(f"{where}: {status} needs a reason after '#'")
        subs = expected.setdefault(test, {})
        if sub in subs:
            errors.append(f"{where}: {test} {sub} listed twice")
        subs[sub] = (status, line, reason)
    return expected, errors


def ktap_file(ktapdir, test):
    """Where the runner keeps TEST's KTAP output."""
    return Path(ktapdir) / (test.replace("/", "_") + ".ktap")


def parse_ktap(path, test):
    """Return {subtest: (outcome, failed)} from a test's top-level KTAP
    lines. failed is the set of lines, in the subtest's own function, of
    its failed checks; it holds None if the subtest raised an exception."""
    prefix = Path(test).stem + "."
    results = {}
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return results
    failed = set()
    for line in lines:
        m = CHECK_AT.match(line)
        if m:
            failed.add((m.group(2), int(m.group(1))))
            continue
        if EXCEPTION.match(line):
            failed.add(None)
            continue
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
        # a failed check traces every frame from the subtest's function
        # down; keep the subtest's own lines
        own = {f[1] for f in failed if f is not None and f[0] == sub}
        if None in failed:
            own.add(None)
        results[sub] = (outcome, own)
        failed = set()
    return results


def matches(outcome, failed, status, line):
    """Whether a subtest's outcome is what its expected status allows."""
    if status != "TIMED":
        return outcome == status
    if outcome == "PASS":
        return True
    return outcome == "FAIL" and failed == {line}


def compare(expected, ktapdir, tests):
    """Yield (test, subtest, outcome, expected status, reason) rows."""
    for test in tests:
        want = expected.get(test, {})
        got = parse_ktap(ktap_file(ktapdir, test), test)
        for sub, (status, line, reason) in want.items():
            outcome, failed = got.get(sub, ("MISSING", set()))
            yield (test, sub, outcome, status, reason,
                   matches(outcome, failed, status, line))
        for sub, (outcome, _) in got.items():
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
        if ok and status == "TIMED":
            verdict = "as expected (timed)"
        elif ok:
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
