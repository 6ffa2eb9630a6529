#!/usr/bin/env bash
# Benchmark harness of docker-tls: `make bench` (not part of `make test`).
#
# Everything is timed as whole processes, in one run, by the small Go
# program scripts/bench/timeit, which interleaves the jobs it compares so
# that drift in the machine's load falls on all of them alike. Ratios are
# taken against baselines measured in the same run; the targets are shown
# as PASS/MISS and never change the exit status, which is non-zero only if
# something could not run.
#
#   1. The standard job: a CA, a daemon certificate for 4 SANs (2 DNS
#      names, 2 IP addresses) and a client certificate, written to files, by
#      docker-tls init, by the openssl recipe of Docker's docs (RSA-4096 as
#      documented, and the same with EC P-256), by mkcert and by cfssl.
#   2. `docker-tls docker-cli-plugin-metadata` against a hello-world plugin
#      on the same docker/cli version (scripts/bench/helloplugin).
#   3. The Go benchmarks of the module.
#
# Settings (environment):
#   BENCH_RUNS=50        timed runs of each standard job
#   BENCH_RSA_RUNS=5     timed runs of the RSA-4096 recipe (slow and random)
#   BENCH_META_RUNS=200  timed runs of each metadata command
#   BENCH_WARMUP=2       untimed runs of each job first
#   BENCH_GO=1           0 skips the Go benchmarks
#   BENCH_GO_ARGS        go test arguments, shell-quoted; default:
#                        -run '^$' -bench . -benchmem ./...
#   DOCKER_TLS_BIN       the binary to measure (default bin/docker-tls,
#                        built with `go build -o bin/docker-tls ./plugin`
#                        only when missing)
#   BENCH_BUILD_FLAGS    go build flags for the hello plugin (and for
#                        bin/docker-tls when it is built here): give the
#                        ones `make build` uses, shell-quoted (e.g.
#                        -trimpath -ldflags='-s -w'),
#                        so that the metadata baseline is built alike
# mkcert v1.4.4 and cfssl v1.6.5 are installed with `go install` into
# .bench/bin (git-ignored) when missing there.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

RUNS=${BENCH_RUNS:-50}
RSA_RUNS=${BENCH_RSA_RUNS:-5}
META_RUNS=${BENCH_META_RUNS:-200}
WARMUP=${BENCH_WARMUP:-2}
GO_BENCH=${BENCH_GO:-1}
MKCERT_VERSION=v1.4.4
CFSSL_VERSION=v1.6.5

# The standard job's names.
SAN_DNS1=docker.example.com SAN_DNS2=localhost SAN_IP1=10.0.0.5 SAN_IP2=127.0.0.1
SANS=$SAN_DNS1,$SAN_DNS2,$SAN_IP1,$SAN_IP2

cache=$root/.bench/bin
mkdir -p "$cache"
export PATH=$cache:$PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/docker-tls-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
results=$work/results.tsv
: >"$results"

problems=()   # what could not run; any makes the exit status 1
problem() {
	problems+=("$1")
	echo "!! $1" >&2
}
section() { printf '\n== %s ==\n' "$1"; }
die() {
	echo "bench: $*" >&2
	exit 1
}

# ---------------------------------------------------------------- tools --

for t in go openssl awk; do
	command -v "$t" >/dev/null || die "$t is not installed: it is needed to run the benchmarks (Debian: apt-get install golang/openssl/gawk, or put it on PATH)"
done

section "Setup"
build_flags=()
eval "build_flags=(${BENCH_BUILD_FLAGS:-})" || die "BENCH_BUILD_FLAGS: not shell words"
DTLS=${DOCKER_TLS_BIN:-$root/bin/docker-tls}
if [[ ! -x $DTLS ]]; then
	[[ -z ${DOCKER_TLS_BIN:-} ]] || die "DOCKER_TLS_BIN=$DOCKER_TLS_BIN is not an executable file"
	echo "bin/docker-tls is missing: building it (go build -o bin/docker-tls ./plugin)"
	go build "${build_flags[@]}" -o bin/docker-tls ./plugin || die "could not build bin/docker-tls"
fi
echo "building scripts/bench/timeit and scripts/bench/helloplugin into .bench/bin${build_flags[*]:+ (flags: ${build_flags[*]})}"
go build -o "$cache/timeit" ./scripts/bench/timeit || die "could not build scripts/bench/timeit"
go build "${build_flags[@]}" -o "$cache/docker-hello" ./scripts/bench/helloplugin ||
	die "could not build scripts/bench/helloplugin"

have_mkcert=1 have_cfssl=1
if [[ ! -x $cache/mkcert ]]; then
	echo "installing mkcert $MKCERT_VERSION into .bench/bin"
	GOBIN=$cache go install "filippo.io/mkcert@$MKCERT_VERSION" ||
		{ problem "could not install mkcert ($MKCERT_VERSION) with go install: the mkcert job is left out"; have_mkcert=0; }
fi
if [[ ! -x $cache/cfssl || ! -x $cache/cfssljson ]]; then
	echo "installing cfssl and cfssljson $CFSSL_VERSION into .bench/bin (takes a minute)"
	GOBIN=$cache go install "github.com/cloudflare/cfssl/cmd/cfssl@$CFSSL_VERSION" \
		"github.com/cloudflare/cfssl/cmd/cfssljson@$CFSSL_VERSION" ||
		{ problem "could not install cfssl ($CFSSL_VERSION) with go install: the cfssl job is left out"; have_cfssl=0; }
fi

echo "docker-tls: $DTLS ($("$DTLS" version 2>/dev/null | head -1 || echo '?'))"
echo "go:         $(go version)"
echo "openssl:    $(openssl version)"
((have_mkcert)) && echo "mkcert:     $MKCERT_VERSION ($cache/mkcert)"
((have_cfssl)) && echo "cfssl:      $CFSSL_VERSION ($cache/cfssl, cfssljson)"
echo "machine:    $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"

# ------------------------------------------------------------- the jobs --
# Each job is a command line for timeit; {dir} is a fresh empty directory
# per run. DOCKER_CONFIG points into it for every job, so that nothing
# reads or writes the user's docker config.

bash_bin=$(command -v bash)
job_names=() job_labels=()
declare -A job_cmd job_runs
add_job() { # add_job NAME LABEL RUNS CMD…
	local name=$1 label=$2 runs=$3
	shift 3
	job_names+=("$name")
	job_labels+=("$label")
	job_runs[$name]=$runs
	job_cmd[$name]=$(printf '%q ' "$@")
}
add_job docker-tls "docker-tls init (ECDSA P-256)" "$RUNS" "$DTLS" init --san "$SANS" --out "{dir}/out"
add_job openssl-rsa "openssl, Docker docs recipe (RSA-4096)" "$RSA_RUNS" "$bash_bin" "$here/jobs/openssl-docs.sh" rsa "{dir}"
add_job openssl-ec "openssl, docs recipe with EC P-256" "$RUNS" "$bash_bin" "$here/jobs/openssl-docs.sh" ec "{dir}"
((have_mkcert)) && add_job mkcert "mkcert -ecdsa (server + -client)" "$RUNS" "$bash_bin" "$here/jobs/mkcert.sh" "{dir}"
((have_cfssl)) && add_job cfssl "cfssl + cfssljson (ECDSA P-256)" "$RUNS" "$bash_bin" "$here/jobs/cfssl.sh" "{dir}"

# Where each job leaves: CA cert, server cert, server key, client cert,
# client key (relative to {dir}).
declare -A job_files=(
	[docker-tls]="out/ca.pem out/server-cert.pem out/server-key.pem out/cert.pem out/key.pem"
	[openssl-rsa]="ca.pem server-cert.pem server-key.pem cert.pem key.pem"
	[openssl-ec]="ca.pem server-cert.pem server-key.pem cert.pem key.pem"
	[mkcert]="caroot/rootCA.pem server-cert.pem server-key.pem cert.pem key.pem"
	[cfssl]="ca.pem server.pem server-key.pem client.pem client-key.pem"
)

# verify NAME DIR: the job made a CA, a server certificate for all 4 SANs
# valid for server auth, and a client certificate valid for client auth,
# each with its matching key. Prints the key type.
verify() {
	local name=$1 dir=$2 ca srv srvkey cli clikey sans f
	read -r ca srv srvkey cli clikey <<<"${job_files[$name]}"
	for f in $ca $srv $srvkey $cli $clikey; do
		[[ -s $dir/$f ]] || { echo "missing $f"; return 1; }
	done
	openssl verify -purpose sslserver -CAfile "$dir/$ca" "$dir/$srv" >/dev/null 2>&1 ||
		{ echo "the server certificate does not verify for server auth against the CA"; return 1; }
	openssl verify -purpose sslclient -CAfile "$dir/$ca" "$dir/$cli" >/dev/null 2>&1 ||
		{ echo "the client certificate does not verify for client auth against the CA"; return 1; }
	sans=$(openssl x509 -in "$dir/$srv" -noout -ext subjectAltName 2>/dev/null)
	for f in "DNS:$SAN_DNS1" "DNS:$SAN_DNS2" "IP Address:$SAN_IP1" "IP Address:$SAN_IP2"; do
		[[ $sans == *"$f"* ]] || { echo "the server certificate lacks the SAN $f"; return 1; }
	done
	for f in "$srv:$srvkey" "$cli:$clikey"; do
		[[ $(openssl x509 -in "$dir/${f%%:*}" -noout -pubkey) == $(openssl pkey -in "$dir/${f#*:}" -pubout 2>/dev/null) ]] ||
			{ echo "${f#*:} does not match ${f%%:*}"; return 1; }
	done
	openssl x509 -in "$dir/$srv" -noout -text | awk '
		/Public Key Algorithm:/ { alg = $NF }
		/Public-Key:/ { gsub(/[()]/, ""); bits = $2 }
		/NIST CURVE:/ { curve = $NF }
		END { if (alg == "rsaEncryption") print "RSA-" bits; else print "EC " (curve ? curve : bits " bit") }'
}

section "Checking that every job makes the same material"
ok_jobs=()
for i in "${!job_names[@]}"; do
	name=${job_names[$i]}
	d=$work/check-$name
	mkdir -p "$d"
	eval "set -- ${job_cmd[$name]}"
	args=("${@//\{dir\}/$d}")
	if ! DOCKER_CONFIG=$d/docker-config "${args[@]}" >"$work/check-$name.log" 2>&1; then
		tail -20 "$work/check-$name.log" >&2
		problem "$name: the check run failed (its output is above); it is left out"
		continue
	fi
	if ! key=$(verify "$name" "$d"); then
		problem "$name: wrong output: $key; it is left out"
		continue
	fi
	printf '  %-40s ok: CA, server cert (4 SANs, serverAuth), client cert (clientAuth); %s keys\n' \
		"${job_labels[$i]}" "$key"
	ok_jobs+=("$i")
done

# ----------------------------------------------------- 1. standard job --

section "1. The standard job: CA + daemon cert (4 SANs) + client cert, files written"
echo "runs: $RUNS each (RSA-4096: $RSA_RUNS), interleaved, after $WARMUP warm-up runs each"
timeit_args=()
for i in "${ok_jobs[@]}"; do
	name=${job_names[$i]}
	eval "set -- ${job_cmd[$name]}"
	[[ ${#timeit_args[@]} -eq 0 ]] || timeit_args+=(---)
	timeit_args+=("$name@${job_runs[$name]}" "$@")
done
if ((${#timeit_args[@]})); then
	"$cache/timeit" -warmup "$WARMUP" -dir "$work/timeit-std" -tsv "$results" \
		-env 'DOCKER_CONFIG={dir}/docker-config' "${timeit_args[@]}" ||
		problem "timing the standard job failed"
fi

# --------------------------------------------------------- 2. metadata --

section "2. docker-cli-plugin-metadata: docker-tls vs a hello-world plugin (same docker/cli)"
echo "runs: $META_RUNS each, interleaved, after $WARMUP warm-up runs each"
"$cache/timeit" -runs "$META_RUNS" -warmup "$WARMUP" -dir "$work/timeit-meta" -tsv "$results" \
	-env 'DOCKER_CONFIG={dir}' \
	meta-docker-tls "$DTLS" docker-cli-plugin-metadata --- \
	meta-hello "$cache/docker-hello" docker-cli-plugin-metadata ||
	problem "timing the metadata command failed"
printf 'binary sizes: docker-tls %s bytes, docker-hello %s bytes\n' "$(stat -c %s "$DTLS")" "$(stat -c %s "$cache/docker-hello")"

# ------------------------------------------------------------- summary --

col() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c; found = 1 } END { if (!found) print "" }' "$results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "%.2f", a / b }'; }
times() { if [[ -n $1 ]]; then echo "$1×"; else echo n/a; fi; }
verdict() { # verdict VALUE OP LIMIT
	[[ -n $1 ]] || { echo "n/a"; return; }
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == ">=") ? v >= l : v <= l; print ok ? "PASS" : "MISS" }'
}

section "Summary (medians of this run; ratios against baselines of this run)"
base=$(col docker-tls 3)
printf '%-40s %6s %12s %10s %14s %15s\n' job runs "median ms" "p90 ms" "CPU median ms" "÷ docker-tls"
for i in "${!job_names[@]}"; do
	name=${job_names[$i]}
	med=$(col "$name" 3)
	if [[ -z $med ]]; then
		printf '%-40s %6s %12s\n' "${job_labels[$i]}" - "did not run"
		continue
	fi
	printf '%-40s %6s %12s %10s %14s %15s\n' "${job_labels[$i]}" "$(col "$name" 2)" "$med" "$(col "$name" 4)" \
		"$(col "$name" 8)" "$(times "$(ratio "$med" "$base")")"
done
echo
for name in meta-docker-tls meta-hello; do
	label="docker-tls docker-cli-plugin-metadata"
	[[ $name == meta-hello ]] && label="hello plugin docker-cli-plugin-metadata"
	if [[ -z $(col $name 3) ]]; then
		printf '%-40s %6s %12s\n' "$label" - "did not run"
		continue
	fi
	printf '%-40s %6s %12s %10s %14s\n' "$label" "$(col $name 2)" "$(col $name 3)" "$(col $name 4)" "$(col $name 8)"
done

echo
echo "Targets:"
r=$(ratio "$(col openssl-rsa 3)" "$base")
printf '  %-62s %10s  (target ≥ 100×)   %s\n' "docs recipe RSA-4096 / docker-tls init" "$(times "$r")" "$(verdict "$r" '>=' 100)"

fast_name="" fast_med=""
for name in openssl-ec mkcert cfssl; do
	m=$(col "$name" 3)
	[[ -n $m ]] || continue
	if [[ -z $fast_med ]] || awk -v a="$m" -v b="$fast_med" 'BEGIN { exit !(a < b) }'; then
		fast_name=$name fast_med=$m
	fi
done
r=$(ratio "$fast_med" "$base")
printf '  %-62s %10s  (target ≥ 1.5×)   %s\n' "fastest ECDSA tool (${fast_name:-none}) / docker-tls init" "$(times "$r")" "$(verdict "$r" '>=' 1.5)"

r=$(ratio "$(col meta-docker-tls 3)" "$(col meta-hello 3)")
printf '  %-62s %10s  (target ≤ 1.1×)   %s\n' "metadata: docker-tls / hello plugin (median wall)" "$(times "$r")" "$(verdict "$r" '<=' 1.1)"
r=$(ratio "$(col meta-docker-tls 8)" "$(col meta-hello 8)")
printf '  %-62s %10s  (for information)\n' "metadata: docker-tls / hello plugin (median CPU)" "$(times "$r")"

# ------------------------------------------------------ 3. Go benchmarks --

if [[ $GO_BENCH != 0 ]]; then
	section "3. Go benchmarks"
	if [[ -n ${BENCH_GO_ARGS:-} ]]; then
		eval "go_args=($BENCH_GO_ARGS)" || die "BENCH_GO_ARGS: not shell words"
	else
		go_args=(-run '^$' -bench . -benchmem ./...)
	fi
	echo "go test ${go_args[*]}"
	go test "${go_args[@]}" 2>&1 || problem "go test ${go_args[*]} failed"
fi

echo
if ((${#problems[@]})); then
	echo "bench: some measurements could not be made:" >&2
	printf '  - %s\n' "${problems[@]}" >&2
	exit 1
fi
echo "bench: done (PASS/MISS are for reading: they do not change the exit status)"
