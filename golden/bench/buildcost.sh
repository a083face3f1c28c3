#!/usr/bin/env bash
# buildcost.sh measures what a generated client costs to compile: for each
# corpus spec it generates our client and oapi-codegen v2's (types and
# client), builds each generated package with its dependencies already
# cached, and reports the median wall time of 3 builds, their median CPU
# time (user + system, which other load on the machine disturbs less than
# wall time) and the peak RSS of the largest process of the build (the
# compiler), from /usr/bin/time -v.
#
# It is a benchmark script, not a test: nothing here asserts a time.
# oapi-codegen is installed into a temporary directory with `go install`;
# it never becomes a dependency of this repository.
#
# Usage (from the repository root):
#
#	golden/bench/buildcost.sh                      # the default spec set
#	golden/bench/buildcost.sh vimeo__api__3.4.yaml # chosen corpus files
#	RUNS=5 OAPI_VERSION=v2.5.0 golden/bench/buildcost.sh
#
# CORPUS overrides the corpus directory (default ../shared/corpus relative
# to the repository root). OURS_ONLY=1 skips oapi-codegen (for specs it
# cannot read, such as stripe and klaviyo).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${CORPUS:-$root/../shared/corpus}
runs=${RUNS:-3}
oapi_version=${OAPI_VERSION:-latest}
if [ ! -d "$corpus" ]; then
	echo "buildcost: no corpus at $corpus (set CORPUS)" >&2
	exit 2
fi
if [ ! -x /usr/bin/time ]; then
	echo "buildcost: needs /usr/bin/time (GNU time; apt-get install time)" >&2
	exit 2
fi
if [ $# -gt 0 ]; then
	specs=("$@")
else
	specs=(adyen__management__v3.yaml vimeo__api__3.4.yaml xero__accounting__v2.yaml
		docker__engine__v1.55.yaml influxdata__oss__v2.yaml okta__management__current.yaml)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/ours" "$work/theirs"

echo "building connectorgen…" >&2
(cd "$root" && go build -o "$work/bin/connectorgen" ./cmd/connectorgen)
if [ "${OURS_ONLY:-}" != 1 ]; then
	echo "installing oapi-codegen $oapi_version into a temporary directory…" >&2
	(cd "$work" && GOBIN="$work/bin" GOFLAGS=-mod=mod go install "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@$oapi_version")
fi

goversion=$(go env GOVERSION | sed 's/^go//; s/\([0-9]*\.[0-9]*\).*/\1/')
cat >"$work/ours/go.mod" <<EOF
module ours

go $goversion

require github.com/connectorgen/connectorgen/runtime v0.0.0

replace github.com/connectorgen/connectorgen/runtime => $root/runtime
EOF
cp "$root/runtime/go.sum" "$work/ours/go.sum" 2>/dev/null || true
printf 'module theirs\n\ngo %s\n' "$goversion" >"$work/theirs/go.mod"

# measure DIR PKG FILE: median wall seconds, CPU seconds and peak MiB of `go build ./PKG`
# over $runs builds. Each build first appends a distinct comment to FILE so
# that the package itself is recompiled while its dependencies come from
# the build cache.
measure() {
	local dir=$1 pkg=$2 file=$3 i secs=() cpu=() rss=()
	(cd "$dir" && GOWORK=off go build "./$pkg") >/dev/null 2>&1 || return 1
	for ((i = 0; i < runs; i++)); do
		echo "// buildcost run $i $$ $RANDOM$RANDOM" >>"$file"
		(cd "$dir" && GOWORK=off /usr/bin/time -v go build "./$pkg") 2>"$work/time.txt" >/dev/null || return 1
		secs+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (j = 1; j <= n; j++) s = s * 60 + p[j]; print s}' "$work/time.txt")")
		cpu+=("$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$work/time.txt")")
		rss+=("$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$work/time.txt")")
	done
	printf '%s %s %s\n' "$(median "${secs[@]}")" "$(median "${cpu[@]}")" "$(median "${rss[@]}")"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

lines() { cat "$@" | wc -l | tr -d ' '; }

results=()
i=0
for spec in "${specs[@]}"; do
	i=$((i + 1))
	pkg=p$i
	path=$corpus/$spec
	if [ ! -f "$path" ]; then
		echo "buildcost: $spec not in the corpus" >&2
		continue
	fi
	echo "generating $spec…" >&2
	"$work/bin/connectorgen" generate -spec "$path" -package "$pkg" -out "$work/ours/$pkg" >/dev/null 2>&1 || {
		results+=("$spec|generate failed|||||||")
		continue
	}
	theirs_ok=0
	if [ "${OURS_ONLY:-}" != 1 ]; then
		mkdir -p "$work/theirs/$pkg"
		if "$work/bin/oapi-codegen" -generate types,client -package "$pkg" "$path" >"$work/theirs/$pkg/gen.go" 2>"$work/theirs/$pkg.err"; then
			theirs_ok=1
		else
			rm -rf "$work/theirs/${pkg:?}"
		fi
	fi
	(cd "$work/ours" && GOWORK=off GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true)
	ours_lines=$(lines "$work/ours/$pkg"/*.go)
	ours=$(measure "$work/ours" "$pkg" "$work/ours/$pkg/types_gen.go") || ours="build failed"
	theirs="n/a"
	theirs_lines=""
	if [ $theirs_ok = 1 ]; then
		(cd "$work/theirs" && GOWORK=off GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true)
		theirs_lines=$(lines "$work/theirs/$pkg/gen.go")
		theirs=$(measure "$work/theirs" "$pkg" "$work/theirs/$pkg/gen.go") || theirs="build failed"
	fi
	results+=("$spec|$ours_lines|$ours|$theirs_lines|$theirs")
	echo "  ours: $ours_lines lines, $ours; oapi-codegen: ${theirs_lines:-–} lines, $theirs" >&2
done

echo
printf '%-40s %7s %7s %7s %7s   %7s %7s %7s %7s   %6s %6s %6s\n' spec lines wall cpu RSS lines wall cpu RSS "wall×" "cpu×" "RSS×"
printf '%-40s %31s   %31s\n' "" "connectorgen (s, MiB)" "oapi-codegen v2 (s, MiB)"
for r in "${results[@]}"; do
	IFS='|' read -r spec ol o tl t <<<"$r"
	read -r os oc om <<<"$o"
	read -r ts tc tm <<<"$t"
	ratio_t="" ratio_c="" ratio_m=""
	if [[ $os =~ ^[0-9.]+$ && $ts =~ ^[0-9.]+$ ]]; then
		ratio_t=$(awk -v a="$os" -v b="$ts" 'BEGIN {printf "%.2f", a / b}')
		ratio_c=$(awk -v a="$oc" -v b="$tc" 'BEGIN {printf "%.2f", a / b}')
		ratio_m=$(awk -v a="$om" -v b="$tm" 'BEGIN {printf "%.2f", a / b}')
	fi
	[[ $os =~ ^[0-9.]+$ ]] || { os=$o; oc=""; om=""; }
	[[ $ts =~ ^[0-9.]+$ ]] || { ts=$t; tc=""; tm=""; }
	printf '%-40s %7s %7s %7s %7s   %7s %7s %7s %7s   %6s %6s %6s\n' "$spec" "$ol" "$os" "$oc" "$om" "$tl" "$ts" "$tc" "$tm" "$ratio_t" "$ratio_c" "$ratio_m"
done
echo
echo "median of $runs builds of the generated package only (dependencies cached); cpu is user + system time; RSS is the peak of the largest build process; $(go env GOVERSION), $(nproc) CPUs"
