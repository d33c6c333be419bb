#!/usr/bin/env bash
# Rollout engine step time over 10,000 and 100,000 devices (pure logic, no I/O): a step that releases half the
# fleet (download assignments, 2 disruption budgets, 1 maintenance window) and a steady step where nothing changes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
JAVA_HOME="$(basalt_find_jdk)"; export JAVA_HOME
cd "$root"
mvn -q -B -pl basalt-fleet-server -am test-compile >/dev/null 2>&1 || { echo "build failed: mvn -pl basalt-fleet-server -am test-compile" >&2; exit 1; }
"$JAVA_HOME/bin/java" -cp basalt-fleet-server/target/classes:basalt-fleet-server/target/test-classes:basalt-api/target/classes \
  dev.basalt.fleet.server.rollout.RolloutBench ${@:-10000 100000}
