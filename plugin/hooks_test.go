package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHookHint(t *testing.T) {
	for _, c := range []struct{ err, want string }{
		{`error during connect: Get "https://127.0.0.1:23765/v1.50/version": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
			"TLS error (the server's certificate is signed by a CA the client does not trust): run `docker tls doctor 127.0.0.1:23765` to find the cause and the fix"},
		{`Error response from daemon: Get "https://registry.example.com:5000/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
			"TLS error (the server's certificate is signed by a CA the client does not trust): run `docker tls doctor --registry registry.example.com:5000` to find the cause and the fix"},
		{"", ""},
		{"Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", ""},
		{"Error response from daemon: manifest for alpine:nope not found: manifest unknown", ""},
		{"EOF", ""},
	} {
		if got := HookHint(c.err); got != c.want {
			t.Errorf("HookHint(%q):\n got %q\nwant %q", c.err, got, c.want)
		}
	}
}

func TestRunHook(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{`{"RootCmd":"pull","Flags":{},"CommandError":"Error response from daemon: Get \"https://reg:5000/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority"}`},
			`{"Type":0,"Template":"TLS error (the server's certificate is signed by a CA the client does not trust): run ` + "`docker tls doctor --registry reg:5000`" + ` to find the cause and the fix"}` + "\n"},
		{[]string{`{"RootCmd":"version","Flags":{}}`}, `{"Type":0}` + "\n"},
		{[]string{`not json`}, `{"Type":0}` + "\n"},
		{nil, `{"Type":0}` + "\n"},
	} {
		var b bytes.Buffer
		if err := runHook(&b, c.args); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("runHook(%q):\n got %s\nwant %s", c.args, b.String(), c.want)
		}
	}
}

// The hook subcommand is routed as docker calls it and does not initialise
// the docker client.
func TestHookCommandRouting(t *testing.T) {
	cfg := newConfig(t)
	// As docker runs it: the plugin name, then the hook subcommand.
	r := run(t, cfg, "tls", "docker-cli-plugin-hooks", `{"RootCmd":"info","CommandError":"x509: certificate has expired or is not yet valid"}`)
	if r.code != 0 || !strings.HasPrefix(r.stdout, `{"Type":0,"Template":"TLS error (`) || r.stderr != "" {
		t.Errorf("hook: %+v", r)
	}
	r = run(t, cfg, "hooks", "enable")
	if want := "docker tls hooks enabled: after a failed docker pull,push,login,version,info with a TLS error, docker prints the docker tls doctor command to run; wrote " + filepath.Join(cfg, "config.json") + "\n"; r.code != 0 || r.stdout != want {
		t.Errorf("hooks enable: %+v\nwant %s", r, want)
	}
	r = run(t, cfg, "hooks", "disable")
	if want := "docker tls hooks disabled (features.hooks is left as it is: other plugins may use it); wrote " + filepath.Join(cfg, "config.json") + "\n"; r.code != 0 || r.stdout != want {
		t.Errorf("hooks disable: %+v\nwant %s", r, want)
	}
	r = run(t, cfg, "hooks", "disable")
	if want := "docker tls hooks disabled (features.hooks is left as it is: other plugins may use it); " + filepath.Join(cfg, "config.json") + " already said so, nothing written\n"; r.code != 0 || r.stdout != want {
		t.Errorf("hooks disable again: %+v\nwant %s", r, want)
	}
	os.WriteFile(filepath.Join(cfg, "config.json"), []byte("{"), 0o600)
	if r = run(t, cfg, "hooks", "enable"); r.code != 2 || !strings.Contains(r.stderr, "config.json: invalid JSON") {
		t.Errorf("hooks enable on broken config.json: %+v", r)
	}
}

func TestEditHooksConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	orig := `{
  "auths": {"reg:5000": {"auth": "YTpi"}},
  "plugins": {"other": {"hooks": "build"}, "tls": {"keep": "me"}},
  "credsStore": "desktop",
  "features": {"hooks": "false", "x": "1"}
}
`
	os.WriteFile(p, []byte(orig), 0o640)
	changed, err := EditHooksConfig(p, true)
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	got, _ := os.ReadFile(p)
	want := `{
  "auths": {
    "reg:5000": {
      "auth": "YTpi"
    }
  },
  "plugins": {
    "other": {
      "hooks": "build"
    },
    "tls": {
      "keep": "me",
      "hooks": "pull,push,login,version,info"
    }
  },
  "credsStore": "desktop",
  "features": {
    "hooks": "true",
    "x": "1"
  }
}
`
	if string(got) != want {
		t.Errorf("enabled config.json:\n%s\nwant:\n%s", got, want)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", fi.Mode())
	}
	backups, _ := filepath.Glob(p + ".bak-*")
	if len(backups) != 1 {
		t.Fatalf("backups: %v", backups)
	}
	if b, _ := os.ReadFile(backups[0]); string(b) != orig {
		t.Errorf("backup differs from the original")
	}
	if changed, err := EditHooksConfig(p, true); err != nil || changed {
		t.Errorf("second enable: %v %v", changed, err)
	}
	if changed, err := EditHooksConfig(p, false); err != nil || !changed {
		t.Fatal(changed, err)
	}
	got, _ = os.ReadFile(p)
	if strings.Contains(string(got), "pull,push") || !strings.Contains(string(got), `"keep": "me"`) || !strings.Contains(string(got), `"other"`) || !strings.Contains(string(got), `"hooks": "true"`) {
		t.Errorf("disabled config.json:\n%s", got)
	}
	if changed, err := EditHooksConfig(p, false); err != nil || changed {
		t.Errorf("second disable: %v %v", changed, err)
	}

	// A missing file: enable creates it (0600), disable leaves it missing.
	q := filepath.Join(dir, "new", "config.json")
	if changed, err := EditHooksConfig(q, false); err != nil || changed {
		t.Errorf("disable without a file: %v %v", changed, err)
	}
	if _, err := EditHooksConfig(q, true); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(q); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new config.json: %v %v", fi, err)
	}
	// Disabling the only hook removes plugins.tls and plugins.
	EditHooksConfig(q, false)
	if b, _ := os.ReadFile(q); string(b) != "{\n  \"features\": {\n    \"hooks\": \"true\"\n  }\n}\n" {
		t.Errorf("after disable: %s", b)
	}

	// Bad input names the file and key.
	os.WriteFile(p, []byte(`{"plugins": []}`), 0o600)
	_, err = EditHooksConfig(p, true)
	if want := p + `: "plugins" must be a JSON object: ` + p + `: expected a JSON object ({…}), found [`; err == nil || err.Error() != want {
		t.Errorf("plugins not an object:\n got %v\nwant %s", err, want)
	}
	os.WriteFile(p, []byte(`{"plugins": `), 0o600)
	if _, err := EditHooksConfig(p, true); err == nil || !strings.HasPrefix(err.Error(), p+": invalid JSON") {
		t.Errorf("broken JSON: %v", err)
	}
}

// Time of the hook path (what docker runs after each hooked command),
// next to docker-cli-plugin-metadata.
func BenchmarkHookHint(b *testing.B) {
	e := `error during connect: Get "https://127.0.0.1:2376/v1.50/version": tls: failed to verify certificate: x509: certificate signed by unknown authority`
	for b.Loop() {
		HookHint(e)
	}
}
