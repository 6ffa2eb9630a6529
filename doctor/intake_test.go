package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki/loader"
)

func intakeFS(files ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for _, f := range files {
		if strings.HasSuffix(f, "/") {
			m[strings.Trim(f, "/")] = &fstest.MapFile{Mode: 0o755 | 1<<31}
			continue
		}
		m[strings.TrimPrefix(f, "/")] = &fstest.MapFile{Data: []byte("x"), Mode: 0o600}
	}
	return m
}

func TestDecideKind(t *testing.T) {
	opts := Options{FS: intakeFS("/etc/docker/certs.d/myreg:5000/", "/etc/containerd/certs.d/ctr.example:5001/"), Env: map[string]string{"HOME": "/home/u"}}
	_ = opts.normalise()
	daemon := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("Api-Version", "1.41")
		}
	}))
	defer daemon.Close()
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		}
	}))
	defer registry.Close()
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	addr := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }
	cases := []struct {
		in       string
		io       IntakeOptions
		kind     string
		target   string
		whyMatch string
	}{
		{"myreg:5000", IntakeOptions{Identify: true}, KindRegistry, "https://myreg:5000", "a registry directory for myreg:5000 exists (/etc/docker/certs.d/myreg:5000)"},
		{"ctr.example:5001", IntakeOptions{Identify: true}, KindRegistry, "https://ctr.example:5001", "/etc/containerd/certs.d/ctr.example:5001"},
		{"h.example:2376", IntakeOptions{Identify: true}, KindDaemon, "tcp://h.example:2376", "port 2376 is the Docker daemon's TLS port"},
		{"h.example", IntakeOptions{Identify: true}, KindDaemon, "tcp://h.example:2375", "no port: docker -H h.example connects to port 2375"},
		{"tcp://h.example", IntakeOptions{}, KindDaemon, "tcp://h.example:2375", "tcp:// names a daemon"},
		{"https://r.example", IntakeOptions{}, KindRegistry, "https://r.example", "https:// names a registry"},
		{"h.example:5000", IntakeOptions{Registry: true}, KindRegistry, "https://h.example:5000", "--registry"},
		{"h.example:5000", IntakeOptions{Daemon: true}, KindDaemon, "tcp://h.example:5000", "--daemon"},
		{addr(daemon), IntakeOptions{Identify: true}, KindDaemon, "tcp://" + addr(daemon), "/_ping answered with Api-Version 1.41"},
		{addr(registry), IntakeOptions{Identify: true}, KindRegistry, "https://" + addr(registry), "/v2/ answered with Docker-Distribution-Api-Version registry/2.0"},
		{addr(web), IntakeOptions{Identify: true}, KindNotDocker, "", "/_ping: 404 Not Found; /v2/: 404 Not Found"},
		{addr(web), IntakeOptions{}, KindDaemon, "tcp://" + addr(web), "not asked: a fleet"},
	}
	for _, c := range cases {
		c.io.Probe = probe.Options{Timeout: 2 * time.Second}
		tg, kind, why, err := decideKind(context.Background(), opts, c.in, c.io, map[string]*probe.Identity{})
		if err != nil || kind != c.kind || (c.target != "" && tg.String() != c.target) || !strings.Contains(why, c.whyMatch) {
			t.Errorf("%s %+v: got %s %s %q (err %v), want %s %s containing %q", c.in, c.io, kind, tg, why, err, c.kind, c.target, c.whyMatch)
		}
	}
}

func ctxMeta(t *testing.T, m fstest.MapFS, cfgDir, name, host string) {
	meta, _ := loader.ContextDir(cfgDir, name)
	data, _ := json.Marshal(map[string]any{"Name": name, "Endpoints": map[string]any{"docker": map[string]any{"Host": host}}})
	m[strings.TrimPrefix(path.Join(meta, "meta.json"), "/")] = &fstest.MapFile{Data: data, Mode: 0o644}
}

func TestDaemonSetups(t *testing.T) {
	target, _ := probe.ParseTarget("tcp://h.example:2376", false)
	names := func(ss []setup) string {
		var out []string
		for _, s := range ss {
			out = append(out, s.name)
		}
		return strings.Join(out, " | ")
	}
	// Plain environment, material in ~/.docker: the effective plain setup
	// and the TLS one the material gives.
	m := intakeFS("/home/u/.docker/ca.pem", "/home/u/.docker/cert.pem", "/home/u/.docker/key.pem")
	ctxMeta(t, m, "/home/u/.docker", "prod", "tcp://h.example:2376")
	ctxMeta(t, m, "/home/u/.docker", "other", "tcp://elsewhere:2376")
	_, tlsDir := loader.ContextDir("/home/u/.docker", "prod")
	m[strings.TrimPrefix(path.Join(tlsDir, "docker", "ca.pem"), "/")] = &fstest.MapFile{Data: []byte("y"), Mode: 0o600}
	opts := Options{FS: m, Env: map[string]string{"HOME": "/home/u"}}
	_ = opts.normalise()
	got := names(daemonSetups(opts, target, true))
	want := "docker -H tcp://h.example:2376 | docker -H tcp://h.example:2376 --tlsverify | docker --context prod"
	if got != want {
		t.Errorf("setups:\n got %s\nwant %s", got, want)
	}
	if got := names(daemonSetups(opts, target, false)); got != "docker -H tcp://h.example:2376" {
		t.Errorf("without alternatives: %s", got)
	}
	// The active endpoint is the target and verifies: it is the effective
	// setup; --tlsverify with the same files is the same setup.
	opts.Env = map[string]string{"HOME": "/home/u", "DOCKER_HOST": "tcp://h.example:2376", "DOCKER_TLS_VERIFY": "1"}
	got = names(daemonSetups(opts, target, true))
	if got != "DOCKER_TLS_VERIFY=1 DOCKER_HOST=tcp://h.example:2376 docker | docker --context prod" {
		t.Errorf("active TLS setup: %s", got)
	}
	// DOCKER_CERT_PATH elsewhere while ~/.docker holds material too.
	m2 := intakeFS("/home/u/.docker/ca.pem", "/certs/ca.pem")
	opts = Options{FS: m2, Env: map[string]string{"HOME": "/home/u", "DOCKER_CERT_PATH": "/certs"}}
	_ = opts.normalise()
	got = names(daemonSetups(opts, target, true))
	if !strings.Contains(got, "DOCKER_CERT_PATH=/certs docker -H tcp://h.example:2376 --tlsverify |") || !strings.Contains(got, "--tlscacert /home/u/.docker/ca.pem") {
		t.Errorf("two material dirs: %s", got)
	}
	// What makes docker typed without flags use each --tlsverify setup,
	// and which setup it takes by itself (DOCKER_HOST names the target).
	opts.Env["DOCKER_HOST"] = "tcp://h.example:2376"
	var exports []string
	for _, su := range daemonSetups(opts, target, true) {
		exports = append(exports, fmt.Sprintf("%v %s", su.active, su.export))
	}
	if got, want := strings.Join(exports, " | "), "true  | false export DOCKER_TLS_VERIFY=1 | false export DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=/home/u/.docker"; got != want {
		t.Errorf("active/export:\n got %s\nwant %s", got, want)
	}
}

func TestOrderSetups(t *testing.T) {
	target, _ := probe.ParseTarget("tcp://h.example:2376", false)
	yes := true
	plain := &probe.Result{Outcome: probe.OutcomePlainClientToTLS, Cause: "plain", Evidence: probe.Evidence{SpeaksTLS: &yes}}
	tlsBad := &probe.Result{Outcome: probe.OutcomeServerUnknownCA, Cause: "unknown CA"}
	tlsOK := &probe.Result{Outcome: probe.OutcomeOK}
	lt := func(name string, tls bool) LiveTarget {
		return LiveTarget{Target: target, Setup: name, Client: probe.Client{TLS: tls}}
	}
	infos := []catalog.TargetInfo{{Target: target.String()}}
	// The endpoint speaks TLS: the TLS setup leads even when it fails.
	ts, rs := OrderSetups([]LiveTarget{lt("plain", false), lt("tls", true)}, []*probe.Result{plain, tlsBad}, infos)
	if ts[0].Setup != "tls" || rs[0] != tlsBad || !ts[1].informational {
		t.Errorf("TLS endpoint: %s first (informational %v)", ts[0].Setup, ts[1].informational)
	}
	if len(infos[0].Setups) != 2 || infos[0].Setups[0].Name != "tls" {
		t.Errorf("infos: %+v", infos[0].Setups)
	}
	// A working setup leads; the failing one becomes info.
	plain2 := &probe.Result{Outcome: probe.OutcomePlainClientToTLS, Cause: "plain", Evidence: probe.Evidence{SpeaksTLS: &yes}}
	ts, rs = OrderSetups([]LiveTarget{lt("plain", false), lt("tls", true)}, []*probe.Result{plain2, tlsOK}, nil)
	if ts[0].Setup != "tls" || !ts[1].informational || !strings.HasPrefix(rs[1].Cause, "the other setup: ") {
		t.Errorf("working setup: %+v %+v", ts, rs[1])
	}
	rep := &catalog.Report{}
	AddLive(rep, ts, rs)
	// A TLS setup the user configured leads even when another works: its
	// failure is the story, the working one a hint.
	cfgBad := &probe.Result{Outcome: probe.OutcomeClientCertMissing, Cause: "no cert"}
	okCtx := &probe.Result{Outcome: probe.OutcomeOK}
	ts2, _ := OrderSetups([]LiveTarget{lt("env TLS", true), lt("docker --context good", true)}, []*probe.Result{cfgBad, okCtx}, nil)
	if ts2[0].Setup != "env TLS" || ts2[0].informational || !ts2[1].informational {
		t.Errorf("configured TLS setup: %+v", ts2)
	}
	if rep.Findings[1].Severity != catalog.SeverityInfo || rep.Summary != nil {
		t.Errorf("a failing other setup must not fail the run: %+v summary %+v", rep.Findings[1], rep.Summary)
	}
	if rs[1].Fix != "nothing to do: tls works" {
		t.Errorf("a setup the user's docker does not take by itself: fix %q", rs[1].Fix)
	}
	// The user's docker without flags goes to the target in plain HTTP
	// (DOCKER_HOST, the context): the fix says what to export for it, as
	// well as the command line that works.
	for _, tc := range []struct{ export string }{{"export DOCKER_TLS_VERIFY=1"}, {"export DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=/home/u/.docker"}} {
		plain3 := &probe.Result{Outcome: probe.OutcomePlainClientToTLS, Cause: "plain", Evidence: probe.Evidence{SpeaksTLS: &yes}}
		act, work := lt("DOCKER_HOST=tcp://h.example:2376 docker", false), lt("docker -H tcp://h.example:2376 --tlsverify", true)
		act.active, work.export = true, tc.export
		ts3, rs3 := OrderSetups([]LiveTarget{act, work}, []*probe.Result{plain3, {Outcome: probe.OutcomeOK}}, nil)
		if want := "nothing to do when you type --tlsverify: docker -H tcp://h.example:2376 --tlsverify works; for docker without flags: " + tc.export; rs3[1].Fix != want {
			t.Errorf("fix\n got %s\nwant %s", rs3[1].Fix, want)
		}
		// That is what the user's `docker version` does, and it fails: a
		// warning that leads the report's first line, not a failing run.
		rep3 := &catalog.Report{}
		AddLive(rep3, ts3, rs3)
		rep3.Summarize()
		if rep3.Findings[1].Severity != catalog.SeverityWarning || rep3.Summary == nil || rep3.Summary.CheckID != string(probe.OutcomePlainClientToTLS) ||
			rep3.Summary.Fix != rs3[1].Fix || catalog.ExitCode(rep3, catalog.DefaultFailOn) != 0 {
			t.Errorf("docker without flags fails: %+v summary %+v", rep3.Findings, rep3.Summary)
		}
	}
}

func TestSummaryNamesTheCause(t *testing.T) {
	rep := &catalog.Report{Findings: []catalog.Finding{
		{CheckID: catalog.IDTLSFileMissing, Severity: catalog.SeverityError, Subject: "/h/.docker/ca.pem", Message: "ca.pem missing", Fix: "install it"},
		{CheckID: catalog.IDEnvTLSVerifyZero, Severity: catalog.SeverityWarning, Subject: "DOCKER_TLS_VERIFY", Message: "DOCKER_TLS_VERIFY=0 turns TLS on", Fix: "unset DOCKER_TLS_VERIFY"},
	}}
	rep.Summarize()
	if rep.Summary == nil || rep.Summary.CheckID != catalog.IDEnvTLSVerifyZero || rep.Summary.Fix != "unset DOCKER_TLS_VERIFY" || !strings.Contains(rep.Summary.RootCause, "(then: ca.pem missing)") {
		t.Errorf("summary: %+v", rep.Summary)
	}
	// Live first: the leading setup's error.
	rep.Findings = append([]catalog.Finding{{CheckID: "probe-server-unknown-authority", Severity: catalog.SeverityError, Subject: "tcp://h:2376", Message: "unknown CA", Fix: "trust it", Setup: "docker --context prod"}}, rep.Findings...)
	rep.Summarize()
	if rep.Summary.CheckID != "probe-server-unknown-authority" || rep.Summary.Setup != "docker --context prod" {
		t.Errorf("live summary: %+v", rep.Summary)
	}
	rep.Findings = nil
	if rep.Summarize(); rep.Summary != nil {
		t.Errorf("no findings, summary %+v", rep.Summary)
	}
}

func TestAddTargetsAndDefaultInputs(t *testing.T) {
	rep := &catalog.Report{}
	AddTargets(rep, []catalog.TargetInfo{{Input: "web:8080", Target: "tcp://web:8080", Kind: KindNotDocker, KindReason: "http://web:8080 answered /_ping: 404 Not Found"}})
	if len(rep.Findings) != 1 || rep.Findings[0].CheckID != catalog.IDTargetNotDocker || rep.Summary == nil ||
		rep.Findings[0].Message != "web:8080 is neither a Docker daemon nor a registry: http://web:8080 answered /_ping: 404 Not Found" {
		t.Errorf("not a Docker endpoint: %+v", rep.Findings)
	}
	opts := Options{FS: intakeFS(), Env: map[string]string{"HOME": "/home/u", "DOCKER_HOST": "10.0.0.5:2376"}}
	if got := DefaultInputs(opts); len(got) != 1 || got[0] != "tcp://10.0.0.5:2376" {
		t.Errorf("scheme-less DOCKER_HOST: %v", got)
	}
	opts.Root = "/srv/image"
	if got := DefaultInputs(opts); got != nil {
		t.Errorf("with --root: %v", got)
	}
	opts = Options{FS: intakeFS(), Env: map[string]string{"HOME": "/home/u"}}
	if got := DefaultInputs(opts); got != nil {
		t.Errorf("socket: %v", got)
	}
}

func TestCausesFirst(t *testing.T) {
	fs := catalog.CausesFirst([]catalog.Finding{
		{CheckID: catalog.IDTLSFileMissing, Severity: catalog.SeverityError, Message: "ca.pem missing"},
		{CheckID: "key-permissions", Severity: catalog.SeverityWarning, Message: "mode"},
		{CheckID: catalog.IDEnvTLSVerifyZero, Severity: catalog.SeverityWarning, Message: "DOCKER_TLS_VERIFY=0"},
	})
	if fs[0].CheckID != catalog.IDEnvTLSVerifyZero || fs[1].Message != "ca.pem missing (a consequence of env-tls-verify-zero, above)" || fs[2].Message != "mode" {
		t.Errorf("order: %+v", fs)
	}
}

// Live and static findings tell one story: the static finding that names
// the file behind a live failure comes right before it, the live one says
// so, and the summary names the file-level cause with docker's symptom.
func TestOrderByCauseAcrossLive(t *testing.T) {
	fs := catalog.OrderByCause([]catalog.Finding{
		{CheckID: "probe-server-name-mismatch", Severity: catalog.SeverityError, Subject: "tcp://127.0.0.1:2376", Message: "with docker -H tcp://127.0.0.1:2376 --tlsverify: not valid for 127.0.0.1", Setup: "docker -H tcp://127.0.0.1:2376 --tlsverify", Fix: "reissue"},
		{CheckID: "key-permissions", Severity: catalog.SeverityWarning, Subject: "/k.pem", Message: "mode"},
		{CheckID: catalog.IDHostNotInSANs, Severity: catalog.SeverityError, Subject: "tcp://127.0.0.1:2376", Message: "cert.pem does not cover 127.0.0.1", Fix: "docker tls issue server --san a,127.0.0.1 --ca-cert ca.pem --ca-key ca-key.pem", Evidence: map[string]string{"host": "127.0.0.1"}},
		{CheckID: catalog.IDHostNotInSANs, Severity: catalog.SeverityError, Subject: "tcp://10.0.0.9:2376", Message: "other listener", Evidence: map[string]string{"host": "10.0.0.9"}},
	})
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.CheckID+" "+f.Subject)
	}
	want := "host-not-in-sans tcp://127.0.0.1:2376|probe-server-name-mismatch tcp://127.0.0.1:2376|key-permissions /k.pem|host-not-in-sans tcp://10.0.0.9:2376"
	if got := strings.Join(ids, "|"); got != want {
		t.Fatalf("order:\n got %s\nwant %s", got, want)
	}
	if !strings.HasSuffix(fs[1].Message, " (explained by host-not-in-sans, above)") {
		t.Errorf("the live finding does not say what explains it: %q", fs[1].Message)
	}
	rep := &catalog.Report{Findings: fs}
	rep.Summarize()
	if rep.Summary == nil || rep.Summary.CheckID != catalog.IDHostNotInSANs || !strings.HasPrefix(rep.Summary.Fix, "docker tls issue server") ||
		rep.Summary.RootCause != "cert.pem does not cover 127.0.0.1 (then: with docker -H tcp://127.0.0.1:2376 --tlsverify: not valid for 127.0.0.1)" ||
		rep.Summary.Setup != "docker -H tcp://127.0.0.1:2376 --tlsverify" {
		t.Errorf("summary: %+v", rep.Summary)
	}
	// Static causesFirst ran already: a second pass adds nothing.
	twice := catalog.OrderByCause(catalog.CausesFirst([]catalog.Finding{{CheckID: catalog.IDTLSFileMissing, Severity: catalog.SeverityError, Message: "m"}, {CheckID: catalog.IDEnvTLSVerifyZero, Severity: catalog.SeverityWarning}}))
	if twice[1].Message != "m (a consequence of env-tls-verify-zero, above)" {
		t.Errorf("consequence marked twice: %q", twice[1].Message)
	}
}

func TestLocalTargets(t *testing.T) {
	local := func(h string) bool { return h == "10.0.0.5" || h == "myhost" }
	got := LocalTargets([]string{"tcp://127.0.0.1:2376", "localhost:2376", "10.0.0.5", "tcp://[::1]:2376", "https://127.0.0.1:5000", "remote.example:2376", "myhost:9000"}, local)
	want := "127.0.0.1:2376 localhost:2376 10.0.0.5:2375 [::1]:2376 myhost:9000"
	if strings.Join(got, " ") != want {
		t.Errorf("LocalTargets = %v, want %s", got, want)
	}
}

// Nothing listening on a bare host:port: the kind cannot be asked, so it is
// taken as docker -H takes it, and the live result is the connect-refused
// outcome with docker's line and a fix for either kind, not
// target-not-docker.
func TestIntakeNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in := ln.Addr().String()
	ln.Close()
	opts := Options{FS: intakeFS(), Env: map[string]string{"HOME": "/home/u"}}
	po := probe.Options{Timeout: 2 * time.Second, APIVersion: func() string { return "1.50" }}
	live, infos, err := Intake(context.Background(), opts, []string{in}, IntakeOptions{Identify: true, Alternatives: true, Probe: po})
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Kind != KindDaemon || !strings.Contains(infos[0].KindReason, "connect: connection refused; nothing could be asked, so it is taken for a daemon as docker -H "+in+" takes it (pass --registry for a registry)") {
		t.Fatalf("kind: %+v", infos)
	}
	if len(live) != 1 || !live[0].Target.Unasked || live[0].Target.String() != "tcp://"+in {
		t.Fatalf("live targets: %+v", live)
	}
	res := Probe(context.Background(), live, po, 1)[0]
	if res.Outcome != probe.OutcomeConnectRefused {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Err)
	}
	if want := "Cannot connect to the Docker daemon at tcp://" + in + ". Is the docker daemon running?"; res.DockerError != want {
		t.Errorf("docker line %q, want %q", res.DockerError, want)
	}
	if !strings.HasPrefix(res.Cause, "nothing listens on "+in+" (connection refused): the doctor could not ask") ||
		!strings.Contains(res.Fix, "is the daemon or registry running and listening there? For a daemon: start dockerd") ||
		!strings.Contains(res.Fix, "-H on its command line must include tcp://"+in) || !strings.Contains(res.Fix, "For a registry: start the registry") {
		t.Errorf("cause %q\nfix %q", res.Cause, res.Fix)
	}
	rep := &catalog.Report{}
	AddTargets(rep, infos)
	for _, f := range rep.Findings {
		if f.CheckID == catalog.IDTargetNotDocker {
			t.Errorf("target-not-docker for a port nobody listens on: %+v", f)
		}
	}
}
