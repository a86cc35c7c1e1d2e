#!/usr/bin/env bash
# changeq-queue on a large queue: seconds and peak RSS of `stat` and `paths -0`.
# Usage: bench/queue-tool.sh [RECORDS] [UNIQUE-PATHS]      (defaults 5000000 1000000)
# Needs: mvn -B -q -DskipTests package   (from the repository root; it compiles the test classes too)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-5000000}
unique=${2:-1000000}
dist=systemd/target/changeq
work=$(mktemp -d "${TMPDIR:-/tmp}/changeq-bench.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

flags=$(sed -n 's/^module_flags="\(.*\)"$/\1/p' "$dist/libexec/changeq-java")
# shellcheck disable=SC2086
java $flags -Dchronicle.analytics.disable=true -Dlogback.configurationFile="$dist/conf/logback.xml" -cp "native-tests/target/test-classes:pipeline/target/test-classes:$dist/lib/*" \
    org.changeq.bench.PlanBenchmark write "$work" "$records" "$unique"
du -sh "$work/queue" | sed 's/^/queue on disk: /'

measure() { # measure LABEL COMMAND...
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err"; exit 1; }
    read -r seconds rss_kb <"$work/time"
    printf '| %-22s | %8s s | %7d MiB |\n' "$label" "$seconds" $((rss_kb / 1024))
}
echo
echo "| command ($records records, $unique paths) | seconds | peak RSS |"
echo "| --- | --- | --- |"
measure "changeq-queue stat" "$dist/bin/changeq-queue" stat --config "$work/changeq.yaml"
measure "changeq-queue paths -0" "$dist/bin/changeq-queue" paths -0 --config "$work/changeq.yaml" --route bench
printf 'paths -0 wrote %d entries\n' "$(tr -cd '\0' <"$work/out" | wc -c)"
