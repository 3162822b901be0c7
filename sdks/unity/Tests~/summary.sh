#!/bin/sh
# Restates an NUnit 2.6 TestResult.xml as the plain closing line "N passed, N failed[, N skipped]".
set -e
xml="$1"
line=$(grep -o '<test-results [^>]*>' "$xml")
attr() { echo "$line" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
failed=$(( $(attr errors) + $(attr failures) ))
passed=$(( $(attr total) - failed - $(attr inconclusive) ))
skipped=$(attr not-run) # NUnit 2.6 counts ignored and skipped tests within not-run
if [ "$skipped" -gt 0 ]; then
	echo "unity: $passed passed, $failed failed, $skipped skipped"
else
	echo "unity: $passed passed, $failed failed"
fi
