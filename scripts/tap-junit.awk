# Criterion's TAP report (--tap) as JUnit XML, for CI systems that read
# JUnit: Criterion's own --xml breaks on a failure message of several lines
# (its CDATA ends after the first), and TAP keeps every line.
#   ok - SUITE::TEST  (0.12s)         passed, with its time
#   ok - SUITE::TEST  # SKIP reason   skipped
#   not ok - SUITE::TEST  (0.00s)     failed; its YAML block (---/...) is the message
function xml(s) {
	gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
	gsub(/"/, "\\&quot;", s)
	return s
}
function start(line, failed,    name, t) {
	n++
	name = line
	sub(/^(not )?ok - /, "", name)
	skip[n] = name ~ /# SKIP/ ? substr(name, index(name, "# SKIP") + 7) : ""
	sub(/ +(# SKIP.*|\([0-9.]+s\))$/, "", name)
	split(name, part, "::")
	suite[n] = part[1]; test[n] = part[2]
	t = line; time[n] = sub(/.*\(/, "", t) && sub(/s\)$/, "", t) ? t : 0
	fail[n] = failed; msg[n] = ""
	failures += failed; skipped += skip[n] != ""
}
/^ok - /     { start($0, 0); next }
/^not ok - / { start($0, 1); inblock = 0; next }
/^  ---$/    { inblock = 1; next }
/^  \.\.\.$/ { inblock = 0; next }
inblock      { sub(/^  /, ""); msg[n] = msg[n] $0 "\n" }
END {
	print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	printf "<testsuite name=\"pagewalk\" tests=\"%d\" failures=\"%d\" skipped=\"%d\">\n", n, failures, skipped
	for (i = 1; i <= n; i++) {
		printf "  <testcase classname=\"%s\" name=\"%s\" time=\"%s\">", xml(suite[i]), xml(test[i]), time[i]
		if (fail[i])
			printf "<failure message=\"failed\">%s</failure>", xml(msg[i])
		else if (skip[i] != "")
			printf "<skipped message=\"%s\"/>", xml(skip[i])
		print "</testcase>"
	}
	print "</testsuite>"
}
