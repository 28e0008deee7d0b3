# Sourced by every stand-in.
# record_in LOG NAME ARG...: appends one line, `NAME [ARG] [ARG]...`, to $DYNHOST_TEST_LOG/LOG.log
# and the same line to $DYNHOST_TEST_LOG/all.log (which the tests search for passwords).
# record NAME ARG...: the same in NAME.log (a program's own argv).
record_in() {
	_record_log="$1"
	_record_line="$2"
	shift 2
	for _record_arg in "$@"; do
		_record_line="$_record_line [$_record_arg]"
	done
	printf '%s\n' "$_record_line" >>"$DYNHOST_TEST_LOG/$_record_log.log"
	printf '%s\n' "$_record_line" >>"$DYNHOST_TEST_LOG/all.log"
}

record() {
	record_in "$1" "$@"
}
