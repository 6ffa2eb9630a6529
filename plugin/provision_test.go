package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/daemoncfg"
)

func TestProvisionAndRotateInputErrors(t *testing.T) {
	cfg := newConfig(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"provision"}, "requires exactly one ssh://[USER@]HOST[:PORT] argument"},
		{[]string{"provision", "tcp://host:2376"}, `invalid ssh URL "tcp://host:2376": expected ssh://[user@]host[:port]`},
		{[]string{"provision", "ssh://me:pw@host"}, "a password in the URL is not supported"},
		{[]string{"provision", "ssh://host"}, "no CA found at "},
		{[]string{"rotate"}, "no provisioned daemon to rotate: set one up with 'docker tls provision ssh://HOST', or rotate local files with --dir"},
		{[]string{"rotate", "nosuch"}, `docker context "nosuch" was not set up with 'docker tls provision'`},
		{[]string{"rotate", "--if-expiring", "soon"}, "--if-expiring: "},
		{[]string{"rotate", "--dir", t.TempDir(), "--ca", "--if-expiring", "30d"}, "--ca rotates every certificate: it goes without --if-expiring"},
		{[]string{"rotate", "--dir", t.TempDir(), "--ca"}, "--ca --dir DIR rotates the CA in DIR (ca.pem with ca-key.pem"},
	} {
		r := run(t, cfg, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	mustRun(t, cfg, "ca", "create")
	dir := t.TempDir()
	r := run(t, cfg, "rotate", "--dir", dir)
	if r.code != 2 || !strings.Contains(r.stderr, dir+": no server-cert.pem, cert.pem or NAME-cert.pem to rotate") {
		t.Errorf("rotate --dir on an empty directory: %d %q", r.code, r.stderr)
	}
	// A record whose context was removed is skipped by a rotation of all.
	recDir := filepath.Join(cfg, "tls", "provisioned")
	if err := os.MkdirAll(recDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(recDir, "gone.json"), []byte(`{"url":"ssh://gone.example","context":"gone","hosts":["tcp://0.0.0.0:2376"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, cfg, "rotate")
	if r.code != 0 || !strings.Contains(r.stdout, `Skipping docker context "gone" (ssh://gone.example): it was removed; 'docker tls rotate gone' sets it up again, 'rm `+filepath.Join(recDir, "gone.json")+`' forgets it`) {
		t.Errorf("rotate with a removed context: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = run(t, cfg, "provision", "--wait", "0s", "ssh://host")
	if r.code != 2 || !strings.Contains(r.stderr, "invalid --wait 0s") {
		t.Errorf("--wait 0s: %d %q", r.code, r.stderr)
	}
}

func TestKeyTypeOfRoundTrip(t *testing.T) {
	ca, err := pki.NewCA(pki.Request{})
	if err != nil {
		t.Fatal(err)
	}
	signer := &pki.CA{Cert: ca.Cert, Key: ca.Key}
	for _, kt := range pki.KeyTypes {
		if testing.Short() && strings.HasPrefix(string(kt), "rsa-") && kt != pki.KeyRSA2048 {
			continue
		}
		iss, err := signer.Issue(pki.Request{Role: pki.RoleClient, CommonName: "c", KeyType: kt})
		if err != nil {
			t.Fatal(err)
		}
		if got := keyTypeOf(iss.Cert.PublicKey); got != kt {
			t.Errorf("keyTypeOf(%s key) = %s", kt, got)
		}
		r := reissueRequest(iss.Cert, 10)
		if r.Role != pki.RoleClient || r.KeyType != kt || r.CommonName != "c" {
			t.Errorf("reissueRequest of a %s client certificate: %+v", kt, r)
		}
	}
}

func TestMergeDaemonTLSKeepsOtherKeys(t *testing.T) {
	cfg, err := daemoncfg.Parse("daemon.json", []byte(`{"log-level":"debug","hosts":["fd://"],"tlsverify":false}`))
	if err != nil {
		t.Fatal(err)
	}
	notes, err := mergeDaemonTLS(cfg, "daemon.json", []string{"tcp://0.0.0.0:2376"}, "/d/ca.pem", "/d/server-cert.pem", "/d/server-key.pem", false)
	if err != nil || len(notes) != 0 {
		t.Fatalf("%v %v", notes, err)
	}
	want := `"log-level": "debug"`
	got := string(cfg.Marshal())
	for _, w := range []string{want, `"fd://"`, `"tcp://0.0.0.0:2376"`, `"tlsverify": true`, `"tlscacert": "/d/ca.pem"`, `"tls": true`} {
		if !strings.Contains(got, w) {
			t.Errorf("merged daemon.json lacks %s:\n%s", w, got)
		}
	}
	empty, _ := daemoncfg.Parse("daemon.json", nil)
	notes, _ = mergeDaemonTLS(empty, "daemon.json", []string{"tcp://0.0.0.0:2376"}, "a", "b", "c", false)
	if len(notes) != 1 || !strings.Contains(string(empty.Marshal()), `"unix:///var/run/docker.sock"`) {
		t.Errorf("no local socket kept: %v\n%s", notes, empty.Marshal())
	}
	noVerify, _ := daemoncfg.Parse("daemon.json", []byte(`{"tlscacert":"/old/ca.pem"}`))
	notes, _ = mergeDaemonTLS(noVerify, "daemon.json", []string{"tcp://0.0.0.0:2376"}, "a", "b", "c", true)
	if got := string(noVerify.Marshal()); strings.Contains(got, "tlscacert") || !strings.Contains(got, `"tlsverify": false`) || len(notes) != 2 {
		t.Errorf("without client verification: %v\n%s", notes, got)
	}
	bad, _ := daemoncfg.Parse("daemon.json", []byte(`{"hosts":"tcp://x"}`))
	if _, err := mergeDaemonTLS(bad, "/etc/docker/daemon.json", nil, "a", "b", "c", false); err == nil || !strings.Contains(err.Error(), "/etc/docker/daemon.json: ") || !strings.Contains(err.Error(), "expected a list of strings") {
		t.Errorf("hosts as a string: %v", err)
	}
}

func TestDaemonComplaint(t *testing.T) {
	log := `time="x" level=info msg="Starting up"
--- dockerd restart 1 ---
time="x" level=warning msg="Your kernel does not support cgroup blkio weight"
failed to load listeners: listen tcp 127.0.0.1:2376: bind: address already in use`
	if got := daemonComplaint(log); got != "failed to load listeners: listen tcp 127.0.0.1:2376: bind: address already in use" {
		t.Errorf("got %q", got)
	}
	if got := daemonComplaint("time=\"x\" level=info msg=a\ntime=\"x\" level=info msg=b"); !strings.Contains(got, "msg=b") {
		t.Errorf("only info lines: got %q", got)
	}
}

func TestMissingSANs(t *testing.T) {
	ca, _ := pki.NewCA(pki.Request{})
	signer := &pki.CA{Cert: ca.Cert, Key: ca.Key}
	dns, ips, _ := pki.ParseSANs([]string{"a.example", "10.0.0.1"})
	iss, err := signer.Issue(pki.Request{Role: pki.RoleServer, CommonName: "a", DNSNames: dns, IPs: ips})
	if err != nil {
		t.Fatal(err)
	}
	more, moreIPs, _ := pki.ParseSANs([]string{"A.example", "b.example", "10.0.0.1", "10.0.0.2"})
	got := missingSANs(iss.Cert, more, moreIPs)
	if strings.Join(got, ",") != "b.example,10.0.0.2" {
		t.Errorf("missing %v", got)
	}
}
