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
#   3. The doctor's static scan of a certs.d with 10,000 registry
#      directories against a bare crypto/x509 parse of the same files (the
#      Go benchmark BenchmarkCertsD of ./doctor, which reports the wall
#      time ratio of alternating rounds — the verdict —, the CPU time ratio
#      of the same rounds for information, and the peak heaps), and the
#      same at 1,000 directories for the growth of the heap.
#   4. One daemon: `docker-tls doctor tcp://127.0.0.1:PORT` (the live
#      ladder plus the static scan) against one `docker version` to the same
#      endpoint, a stand-in dockerd (scripts/bench/fakedockerd: dockerd's
#      TLS server profile, client certificates required, /_ping and
#      /v1.X/version answered as Docker Engine 27.5 does).
#   5. A fleet: 1,000 such endpoints in one process (scripts/bench/fleet)
#      probed by `docker-tls doctor --targets-file F --parallel 32 --format
#      json`, against the same 1,000 TLS handshakes (client certificate,
#      verification) made by a bare Go program with the same concurrency
#      (scripts/bench/rawhs; also with GET /_ping, and with /_ping +
#      /version, for context), and the doctor at 100 and 300 endpoints for
#      the growth of the time.
#   6. The other Go benchmarks of the module.
#
# Settings (environment):
#   BENCH_RUNS=50        timed runs of each standard job
#   BENCH_RSA_RUNS=5     timed runs of the RSA-4096 recipe (slow and random)
#   BENCH_META_RUNS=200  timed runs of each metadata command
#   BENCH_WARMUP=2       untimed runs of each job first
#   BENCH_DOCTOR=1       0 skips the doctor benchmarks (3 to 5)
#   BENCH_CERTSD_DIRS=10000  registry directories of the static scan
#   BENCH_CERTSD_SMALL=1000  the same at this size for the heap's growth
#                        (0 skips it)
#   BENCH_CERTSD_BENCHTIME=5x  -benchtime of BenchmarkCertsD
#   BENCH_DAEMON_RUNS=50 timed runs of the one-daemon jobs
#   BENCH_FLEET_RUNS=10  timed runs of each fleet job
#   BENCH_FLEET_SIZES="100 300 1000"  fleet sizes the doctor is timed at;
#                        the last is the fleet (and the raw baseline's)
#   BENCH_PARALLEL=32    --parallel of the doctor and of the raw baseline
#   BENCH_GO=1           0 skips the Go benchmarks
#   BENCH_GO_ARGS        go test arguments, shell-quoted; default:
#                        -run '^$' -bench . -skip '^BenchmarkCertsD$'
#                        -benchmem ./... (BenchmarkCertsD has run in 3;
#                        without -skip when BENCH_DOCTOR=0)
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
DOCTOR_BENCH=${BENCH_DOCTOR:-1}
CERTSD_DIRS=${BENCH_CERTSD_DIRS:-10000}
CERTSD_SMALL=${BENCH_CERTSD_SMALL:-1000}
CERTSD_BENCHTIME=${BENCH_CERTSD_BENCHTIME:-5x}
DAEMON_RUNS=${BENCH_DAEMON_RUNS:-50}
FLEET_RUNS=${BENCH_FLEET_RUNS:-10}
read -r -a FLEET_SIZES <<<"${BENCH_FLEET_SIZES:-100 300 1000}"
PARALLEL=${BENCH_PARALLEL:-32}
MKCERT_VERSION=v1.4.4
CFSSL_VERSION=v1.6.5

# The standard job's names.
SAN_DNS1=docker.example.com SAN_DNS2=localhost SAN_IP1=10.0.0.5 SAN_IP2=127.0.0.1
SANS=$SAN_DNS1,$SAN_DNS2,$SAN_IP1,$SAN_IP2

cache=$root/.bench/bin
mkdir -p "$cache"
export PATH=$cache:$PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/docker-tls-bench.XXXXXX")
servers=()   # pids of the stand-in daemons started here
cleanup() {
	local pid
	for pid in "${servers[@]}"; do
		{ kill "$pid" && wait "$pid"; } 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
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
if [[ $DOCTOR_BENCH != 0 ]]; then
	echo "building scripts/bench/fakedockerd, scripts/bench/fleet and scripts/bench/rawhs into .bench/bin"
	for p in fakedockerd fleet rawhs; do
		go build -o "$cache/$p" "./scripts/bench/$p" || die "could not build scripts/bench/$p"
	done
fi

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

section "2. docker-cli-plugin-metadata: docker-tls vs a hello-world plugin (same docker/cli), and docker-tls's hook"
echo "runs: $META_RUNS each, interleaved, after $WARMUP warm-up runs each"
"$cache/timeit" -runs "$META_RUNS" -warmup "$WARMUP" -dir "$work/timeit-meta" -tsv "$results" \
	-env 'DOCKER_CONFIG={dir}' \
	meta-docker-tls "$DTLS" docker-cli-plugin-metadata --- \
	meta-hello "$cache/docker-hello" docker-cli-plugin-metadata --- \
	hook-docker-tls "$DTLS" tls docker-cli-plugin-hooks \
	'{"RootCmd":"version","Flags":{},"CommandError":"error during connect: Get \"https://127.0.0.1:2376/v1.50/version\": remote error: tls: certificate required"}' ||
	problem "timing the metadata command failed"
printf 'binary sizes: docker-tls %s bytes, docker-hello %s bytes\n' "$(stat -c %s "$DTLS")" "$(stat -c %s "$cache/docker-hello")"

# ------------------------------------------------------------ 3–5. doctor --

# start_server NAME TARGETS-FILE ARG…: starts a stand-in daemon in the
# background and waits until it has written its targets.
start_server() {
	local name=$1 targets=$2 i
	shift 2
	"$cache/$name" -certs "$certs" -targets "$targets" "$@" >"$work/$name.log" 2>&1 &
	servers+=($!)
	for ((i = 0; i < 300; i++)); do
		[[ -s $targets ]] && return 0
		kill -0 "${servers[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/$name.log" >&2
	return 1
}

# certsd_field OUTPUT SUB UNIT: the value before UNIT on the line of
# BenchmarkCertsD/SUB.
certsd_field() {
	awk -v sub_="BenchmarkCertsD/$2" -v unit="$3" 'index($1, sub_) == 1 { for (i = 2; i <= NF; i++) if ($i == unit) print $(i - 1) }' <<<"$1" | tail -1
}

# certsd N: runs BenchmarkCertsD with N directories; sets certsd_out.
certsd() {
	echo "DOCKER_TLS_BENCH_DIRS=$1 go test ./doctor -run '^\$' -bench '^BenchmarkCertsD\$' -benchtime $CERTSD_BENCHTIME -benchmem -v"
	certsd_out=$(DOCKER_TLS_BENCH_DIRS=$1 go test ./doctor -run '^$' -bench '^BenchmarkCertsD$' \
		-benchtime "$CERTSD_BENCHTIME" -benchmem -v 2>&1) || { echo "$certsd_out" | tail -30 >&2; return 1; }
	grep -E '^(Benchmark|    bench_test)' <<<"$certsd_out" | sed 's/^/  /'
}

sd_ratio="" sd_cpu_ratio="" sd_heap_doctor="" sd_heap_bare="" sd_heap_small="" sd_heap_bare_small="" sd_doctor_ms="" sd_bare_ms=""
fleet_n=${FLEET_SIZES[-1]:-1000}
if [[ $DOCTOR_BENCH != 0 ]]; then
	section "3. Doctor, static scan: certs.d with $CERTSD_DIRS registry directories vs a bare parse"
	if certsd "$CERTSD_DIRS"; then
		sd_ratio=$(sed -n 's/.*(medians), ratio \([0-9.]*\).*/\1/p' <<<"$certsd_out" | tail -1)
		sd_cpu_ratio=$(sed -n 's/.* cpu ratio \([0-9.]*\).*/\1/p' <<<"$certsd_out" | tail -1)
		sd_heap_doctor=$(certsd_field "$certsd_out" doctor peak-heap-MB)
		sd_heap_bare=$(certsd_field "$certsd_out" bare peak-heap-MB)
		sd_doctor_ms=$(awk -v v="$(certsd_field "$certsd_out" doctor ns/op)" 'BEGIN { if (v != "") printf "%.0f", v / 1e6 }')
		sd_bare_ms=$(awk -v v="$(certsd_field "$certsd_out" bare ns/op)" 'BEGIN { if (v != "") printf "%.0f", v / 1e6 }')
		[[ -n $sd_ratio && -n $sd_heap_doctor ]] || problem "BenchmarkCertsD: its output has no ratio or peak heap (changed format?)"
	else
		problem "BenchmarkCertsD ($CERTSD_DIRS directories) failed"
	fi
	if [[ $CERTSD_SMALL != 0 ]]; then
		echo "the same with $CERTSD_SMALL directories, for the growth of the heap:"
		if certsd "$CERTSD_SMALL"; then
			sd_heap_small=$(certsd_field "$certsd_out" doctor peak-heap-MB)
			sd_heap_bare_small=$(certsd_field "$certsd_out" bare peak-heap-MB)
		else
			problem "BenchmarkCertsD ($CERTSD_SMALL directories) failed"
		fi
	fi

	# The material of sections 4 and 5: docker-tls init, as a user makes it.
	certs=$work/certs
	if ! DOCKER_CONFIG=$work/init-config "$DTLS" init --san localhost,127.0.0.1 --out "$certs" >"$work/init.log" 2>&1; then
		cat "$work/init.log" >&2
		problem "docker-tls init --san localhost,127.0.0.1 failed: sections 4 and 5 are left out"
		DOCTOR_BENCH=0
	fi
	# Every run sees only this: TLS on, verification on, this material, no
	# docker host or context from the caller's environment, and (through
	# timeit's -env) an empty DOCKER_CONFIG of its own.
	dk_env=(env -u DOCKER_HOST -u DOCKER_CONTEXT -u DOCKER_TLS DOCKER_TLS_VERIFY=1 "DOCKER_CERT_PATH=$certs")
fi

if [[ $DOCTOR_BENCH != 0 ]]; then
	section "4. Doctor, one daemon: docker-tls doctor tcp://127.0.0.1:PORT vs one docker version"
	docker_bin=$(command -v docker || true)
	if [[ -z $docker_bin ]]; then
		problem "docker (the CLI) is not installed: section 4 is left out"
	elif ! start_server fakedockerd "$work/daemon.txt"; then
		problem "scripts/bench/fakedockerd did not start: section 4 is left out"
	else
		daemon=$(head -1 "$work/daemon.txt")
		echo "endpoint: $daemon, scripts/bench/fakedockerd (a stand-in dockerd: a real one needs the e2e harness's namespaces)"
		echo "docker:   $docker_bin ($("$docker_bin" --version 2>/dev/null))"
		mkdir -p "$work/dk-check"
		if ! out=$("${dk_env[@]}" DOCKER_CONFIG="$work/dk-check" "$docker_bin" -H "$daemon" version 2>&1); then
			echo "$out" | tail -20 >&2
			problem "docker version against fakedockerd failed (its output is above): section 4 is left out"
		elif ! dout=$("${dk_env[@]}" DOCKER_CONFIG="$work/dk-check" "$DTLS" doctor --format json "$daemon" 2>&1) ||
			[[ $(grep -c '"checkId": "probe-ok"' <<<"$dout") != 1 ]]; then
			echo "$dout" | tail -30 >&2
			problem "docker-tls doctor $daemon did not exit 0 with probe-ok (its output is above): section 4 is left out"
		else
			printf '  docker version: ok (%s)\n' "$(awk '/^Server:/ { s = 1 } s && /Version:/ { print "server " $2; exit }' <<<"$out")"
			echo "  docker-tls doctor: ok (exit 0, probe-ok)"
			echo "runs: $DAEMON_RUNS each, interleaved, after $WARMUP warm-up runs each"
			"${dk_env[@]}" "$cache/timeit" -runs "$DAEMON_RUNS" -warmup "$WARMUP" -dir "$work/timeit-daemon" -tsv "$results" \
				-env 'DOCKER_CONFIG={dir}' \
				daemon-doctor "$DTLS" doctor "$daemon" --- \
				daemon-docker "$docker_bin" -H "$daemon" version ||
				problem "timing the one-daemon jobs failed"
		fi
	fi

	section "5. Doctor, a fleet of $fleet_n TLS endpoints (one process) vs raw Go handshakes"
	nofile=$(ulimit -n)
	if [[ $nofile != unlimited ]] && ((nofile < 2 * fleet_n + 1024)); then
		ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
		echo "open files: ulimit -n was $nofile, raised to $(ulimit -n)"
	else
		echo "open files: ulimit -n $nofile (enough)"
	fi
	if ! start_server fleet "$work/fleet.txt" -n "$fleet_n"; then
		problem "scripts/bench/fleet did not start $fleet_n listeners: section 5 is left out"
	else
		fleet_ok=1
		for n in "${FLEET_SIZES[@]}"; do
			head -n "$n" "$work/fleet.txt" >"$work/fleet-$n.txt"
		done
		echo "targets: $(wc -l <"$work/fleet.txt") endpoints tcp://127.0.0.1:PORT in one scripts/bench/fleet process; --parallel $PARALLEL"
		mkdir -p "$work/fleet-check"
		if ! dout=$("${dk_env[@]}" DOCKER_CONFIG="$work/fleet-check" "$DTLS" doctor --targets-file "$work/fleet.txt" \
			--parallel "$PARALLEL" --format json 2>"$work/fleet-check.err"); then
			tail -20 "$work/fleet-check.err" >&2
			problem "docker-tls doctor --targets-file (fleet of $fleet_n) did not exit 0: section 5 is left out"
			fleet_ok=0
		elif ok=$(grep -c '"checkId": "probe-ok"' <<<"$dout"); [[ $ok != "$fleet_n" ]]; then
			problem "docker-tls doctor --targets-file: $ok of $fleet_n endpoints probe-ok: section 5 is left out"
			fleet_ok=0
		else
			echo "  docker-tls doctor --targets-file: ok (exit 0, $ok × probe-ok)"
		fi
		for m in hs ping full; do
			((fleet_ok)) || break
			if ! out=$("${dk_env[@]}" "$cache/rawhs" -targets "$work/fleet.txt" -parallel "$PARALLEL" -mode "$m" 2>&1); then
				echo "$out" >&2
				problem "scripts/bench/rawhs -mode $m failed: section 5 is left out"
				fleet_ok=0
			else
				echo "  rawhs -mode $m: $out"
			fi
		done
		if ((fleet_ok)); then
			echo "runs: $FLEET_RUNS each, interleaved, after 1 warm-up run each"
			timeit_args=()
			for n in "${FLEET_SIZES[@]}"; do
				timeit_args+=("fleet-doctor-$n" "$DTLS" doctor --targets-file "$work/fleet-$n.txt" --parallel "$PARALLEL" --format json ---)
			done
			timeit_args+=(fleet-raw-hs "$cache/rawhs" -targets "$work/fleet.txt" -parallel "$PARALLEL" -mode hs ---
				fleet-raw-ping "$cache/rawhs" -targets "$work/fleet.txt" -parallel "$PARALLEL" -mode ping ---
				fleet-raw-full "$cache/rawhs" -targets "$work/fleet.txt" -parallel "$PARALLEL" -mode full)
			"${dk_env[@]}" "$cache/timeit" -runs "$FLEET_RUNS" -warmup 1 -dir "$work/timeit-fleet" -tsv "$results" \
				-env 'DOCKER_CONFIG={dir}' "${timeit_args[@]}" ||
				problem "timing the fleet jobs failed"
		fi
	fi
fi

# ------------------------------------------------------------- summary --

col() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c; found = 1 } END { if (!found) print "" }' "$results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "%.2f", a / b }'; }
times() { if [[ -n $1 ]]; then echo "$1×"; else echo n/a; fi; }
verdict() { # verdict VALUE OP LIMIT
	[[ -n $1 ]] || { echo "n/a"; return; }
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == ">=") ? v >= l : (op == "<") ? v < l : v <= l; print ok ? "PASS" : "MISS" }'
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
for name in meta-docker-tls meta-hello hook-docker-tls; do
	label="docker-tls docker-cli-plugin-metadata"
	[[ $name == meta-hello ]] && label="hello plugin docker-cli-plugin-metadata"
	[[ $name == hook-docker-tls ]] && label="docker-tls hook (TLS error → hint)"
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

# ------------------------------------------------------ doctor summary --

if [[ ${BENCH_DOCTOR:-1} != 0 ]]; then
	echo
	echo "Doctor (medians of this run; whole processes; peak RSS = the largest ru_maxrss of the timed runs):"
	printf '%-52s %6s %12s %10s %14s %12s %14s\n' job runs "median ms" "p90 ms" "CPU median ms" "peak RSS MB" "ms / endpoint"
	drow() { # drow NAME LABEL [ENDPOINTS]
		if [[ -z $(col "$1" 3) ]]; then
			printf '%-52s %6s %12s\n' "$2" - "did not run"
			return
		fi
		local per=""
		[[ -n ${3:-} ]] && per=$(awk -v t="$(col "$1" 3)" -v n="$3" 'BEGIN { printf "%.3f", t / n }')
		printf '%-52s %6s %12s %10s %14s %12s %14s\n' "$2" "$(col "$1" 2)" "$(col "$1" 3)" "$(col "$1" 4)" \
			"$(col "$1" 8)" "$(col "$1" 9)" "$per"
	}
	drow daemon-doctor "one daemon: docker-tls doctor tcp://127.0.0.1:PORT"
	drow daemon-docker "one daemon: docker version (1 call)"
	for n in "${FLEET_SIZES[@]}"; do
		drow "fleet-doctor-$n" "fleet $n: docker-tls doctor --targets-file" "$n"
	done
	drow fleet-raw-hs "fleet $fleet_n: raw TLS handshakes (rawhs)" "$fleet_n"
	drow fleet-raw-ping "fleet $fleet_n: raw handshake + GET /_ping" "$fleet_n"
	drow fleet-raw-full "fleet $fleet_n: raw handshake + /_ping + /version" "$fleet_n"
	if [[ -n $sd_doctor_ms ]]; then
		printf '%-52s %6s %12s   (go test, per scan; peak heap %s MB)\n' "static scan $CERTSD_DIRS dirs: doctor" "$CERTSD_BENCHTIME" "$sd_doctor_ms" "$sd_heap_doctor"
		printf '%-52s %6s %12s   (go test, per parse; peak heap %s MB)\n' "static scan $CERTSD_DIRS dirs: bare x509 parse" "$CERTSD_BENCHTIME" "$sd_bare_ms" "$sd_heap_bare"
	fi

	echo
	echo "Doctor targets:"
	# tline LABEL VALUE TARGET VERDICT, padded by characters (not bytes).
	tline() {
		printf '  %s%*s %*s%s  %s%*s %s\n' "$1" $((62 - ${#1})) "" $((10 - ${#2})) "" "$2" "$3" $((18 - ${#3})) "" "$4"
	}
	tline "static scan, $CERTSD_DIRS dirs: doctor / bare parse (its ratio)" "$(times "$sd_ratio")" "(target ≤ 1.3×)" "$(verdict "$sd_ratio" '<=' 1.3)"
	if [[ -n $sd_cpu_ratio ]]; then
		tline "  the same in CPU time (getrusage, alternating rounds)" "$(times "$sd_cpu_ratio")" "(for information)" ""
	fi
	r=$(ratio "$sd_heap_doctor" "$sd_heap_bare")
	tline "static scan: peak heap doctor / bare parse ($sd_heap_doctor / $sd_heap_bare MB)" "$(times "$r")" "(flat: ≤ 1.5×)" "$(verdict "$r" '<=' 1.5)"
	if [[ -n $sd_heap_small && -n $sd_heap_doctor ]]; then
		tline "  peak heap growth ${CERTSD_SMALL}→$CERTSD_DIRS dirs: doctor ($sd_heap_small→$sd_heap_doctor MB)" "$(times "$(ratio "$sd_heap_doctor" "$sd_heap_small")")" "(for information)" ""
		tline "  peak heap growth ${CERTSD_SMALL}→$CERTSD_DIRS dirs: bare ($sd_heap_bare_small→$sd_heap_bare MB)" "$(times "$(ratio "$sd_heap_bare" "$sd_heap_bare_small")")" "(for information)" ""
	fi
	r=$(ratio "$(col daemon-doctor 3)" "$(col daemon-docker 3)")
	tline "one daemon: doctor / docker version (median wall)" "$(times "$r")" "(target ≤ 1.5×)" "$(verdict "$r" '<=' 1.5)"
	r=$(ratio "$(col daemon-doctor 8)" "$(col daemon-docker 8)")
	tline "one daemon: doctor / docker version (median CPU)" "$(times "$r")" "(for information)" ""
	r=$(ratio "$(col "fleet-doctor-$fleet_n" 3)" "$(col fleet-raw-hs 3)")
	tline "fleet $fleet_n: doctor / raw handshakes (median wall)" "$(times "$r")" "(target ≤ 1.5×)" "$(verdict "$r" '<=' 1.5)"
	r=$(ratio "$(col "fleet-doctor-$fleet_n" 3)" "$(col fleet-raw-ping 3)")
	tline "fleet $fleet_n: doctor / raw handshake + /_ping" "$(times "$r")" "(for information)" ""
	r=$(ratio "$(col "fleet-doctor-$fleet_n" 3)" "$(col fleet-raw-full 3)")
	tline "fleet $fleet_n: doctor / raw handshake + /_ping + /version" "$(times "$r")" "(for information)" ""
	r=$(ratio "$(col "fleet-doctor-$fleet_n" 8)" "$(col fleet-raw-hs 8)")
	tline "fleet $fleet_n: doctor / raw handshakes (median CPU)" "$(times "$r")" "(for information)" ""
	r=$(col "fleet-doctor-$fleet_n" 9)
	tline "fleet $fleet_n: doctor peak RSS" "${r:-n/a}${r:+ MB}" "(target < 100 MB)" "$(verdict "$r" '<' 100)"
	small=${FLEET_SIZES[0]}
	if ((${#FLEET_SIZES[@]} > 1)); then
		pb=$(awk -v t="$(col "fleet-doctor-$small" 3)" -v n="$small" 'BEGIN { if (t != "") printf "%.4f", t / n }')
		pl=$(awk -v t="$(col "fleet-doctor-$fleet_n" 3)" -v n="$fleet_n" 'BEGIN { if (t != "") printf "%.4f", t / n }')
		r=$(ratio "$pl" "$pb")
		tline "fleet: time per endpoint, $fleet_n / $small endpoints" "$(times "$r")" "(target ≤ 1.5×)" "$(verdict "$r" '<=' 1.5)"
		r=$(awk -v a="$(col "fleet-doctor-$small" 3)" -v b="$(col "fleet-doctor-$fleet_n" 3)" -v na="$small" -v nb="$fleet_n" \
			'BEGIN { if (a != "" && b != "") printf "%.3f", (b - a) / (nb - na) }')
		tline "fleet: marginal ms per endpoint, $small→$fleet_n" "${r:-n/a}${r:+ ms}" "(for information)" ""
	fi
fi

# ------------------------------------------------------ 6. Go benchmarks --

if [[ $GO_BENCH != 0 ]]; then
	section "6. Go benchmarks"
	if [[ -n ${BENCH_GO_ARGS:-} ]]; then
		eval "go_args=($BENCH_GO_ARGS)" || die "BENCH_GO_ARGS: not shell words"
	elif [[ ${BENCH_DOCTOR:-1} != 0 ]]; then
		go_args=(-run '^$' -bench . -skip '^BenchmarkCertsD$' -benchmem ./...)
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
