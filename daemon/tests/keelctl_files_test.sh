#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# keelctl reads the profile it is given itself, with its caller's rights,
# and sends keeld the text (issue 11): a FIFO, a device, a directory
# entry that is one, or a file above the limit are refused with a clear
# message before keeld is asked; a hang fails (timeout) rather than
# blocks. No keeld runs here: the socket does not exist, so a keelctl
# that got as far as asking would say it cannot connect.
#
# usage: keelctl_files_test.sh BUILD_DIR
set -u

BUILD=${1:?usage: $0 BUILD_DIR}
KEELCTL=$BUILD/keelctl
WORK=$(mktemp -d)
failed=0
n=0

trap 'rm -rf "$WORK"' EXIT

# refused NAME REGEX KEELCTL-ARGS...: keelctl exits 1 within 10 s and its
# standard error matches REGEX
refused() {
	local name=$1 regex=$2 rc

	shift 2
	n=$((n + 1))
	timeout 10 "$KEELCTL" --socket "$WORK/absent.sock" "$@" \
		> "$WORK/out" 2> "$WORK/err" < /dev/null
	rc=$?
	if [ "$rc" -eq 1 ] && grep -qE -- "$regex" "$WORK/err"; then
		echo "ok $n $name"
	else
		failed=$((failed + 1))
		echo "not ok $n $name (exit $rc)"
		sed 's/^/#   /' "$WORK/err"
	fi
}

mkfifo "$WORK/fifo.toml"
refused "diff of a FIFO" "$WORK/fifo.toml is a FIFO, not a regular file" \
	diff "$WORK/fifo.toml"
refused "apply of a FIFO" "$WORK/fifo.toml is a FIFO, not a regular file" \
	apply "$WORK/fifo.toml"
refused "diff of /dev/zero" \
	"/dev/zero is a character device, not a regular file" diff /dev/zero

head -c $((1024 * 1024)) /dev/zero | tr '\0' '#' > "$WORK/big.toml"
refused "a file larger than a request can carry" \
	"big.toml is larger than 65536 bytes" diff "$WORK/big.toml"

# Under the read limit, but quotes double in JSON
{ printf '#'; head -c 40000 /dev/zero | tr '\0' '"'; echo; } > "$WORK/quotes.toml"
refused "a text whose request is too large" \
	"quotes.toml: the profile text makes a request of [0-9]+ bytes; keeld takes at most 65536" \
	diff "$WORK/quotes.toml"

mkdir "$WORK/dir"
printf '[[profile]]\nname = "a"\nmatch.name = "a*"\n' > "$WORK/dir/10-a.toml"
refused "a directory is read and sent" "connect to keeld" diff "$WORK/dir"
ln -s "$WORK/fifo.toml" "$WORK/dir/20-fifo.toml"
refused "a FIFO in a directory" "20-fifo.toml is a FIFO, not a regular file" \
	diff "$WORK/dir"
refused "a missing file" "absent.toml: No such file or directory" \
	diff "$WORK/absent.toml"

# Not about files: a --since so far back that its milliseconds overflow
# (undefined behaviour) is a usage error (exit 2), as any bad one is.
n=$((n + 1))
timeout 10 "$KEELCTL" --socket "$WORK/absent.sock" history lo x \
	--since 99999999999999d > "$WORK/out" 2> "$WORK/err" < /dev/null
rc=$?
if [ "$rc" -eq 2 ] && grep -q "bad --since" "$WORK/err"; then
	echo "ok $n a --since that overflows is refused"
else
	failed=$((failed + 1))
	echo "not ok $n a --since that overflows is refused (exit $rc)"
	sed 's/^/#   /' "$WORK/err"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
