// Package doctor finds what is wrong with the TLS material Docker uses: the
// client's certificates, contexts, registry certs.d directories and the
// daemon's TLS configuration. It reads through an fs.FS and never writes.
// Checks return findings; renderers print them.
package doctor

import (
	"github.com/docker-tls/docker-tls/pki/daemoncfg"
	"github.com/docker-tls/docker-tls/pki/loader"

	"fmt"
	"io/fs"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// DefaultExpiryWarn is how long before NotAfter cert-expiring fires.
const DefaultExpiryWarn = 30 * 24 * time.Hour

// ClientFlags are the docker CLI's global flags that change which TLS
// material the client uses. Zero values mean "not given".
type ClientFlags struct {
	Host      string // -H/--host
	Context   string // --context/-c
	TLS       *bool  // --tls
	TLSVerify *bool  // --tlsverify
	TLSCACert string // --tlscacert
	TLSCert   string // --tlscert
	TLSKey    string // --tlskey
	Config    string // --config
}

// Options configure one doctor run.
type Options struct {
	// FS is the file system, rooted at what the doctor treats as "/".
	FS fs.FS
	// Root is how the report names FS's root ("" or "/" for the real root).
	Root string
	// Env is the client's environment (DOCKER_HOST, DOCKER_TLS_VERIFY,
	// DOCKER_TLS, DOCKER_CERT_PATH, DOCKER_CONFIG, DOCKER_CONTEXT, HOME,
	// XDG_CONFIG_HOME). Paths in it are paths inside FS.
	Env   map[string]string
	Flags ClientFlags
	// Cwd resolves relative paths in the environment (DOCKER_CERT_PATH);
	// "" is "/".
	Cwd string
	// Now is the time certificates are judged at; zero means time.Now().
	Now time.Time
	// ExpiryWarn is the cert-expiring threshold; zero means DefaultExpiryWarn.
	ExpiryWarn time.Duration
	// ExpiryFail is the renewal gate: a certificate expiring within it is
	// reported as cert-expiring with severity error (instead of the
	// catalog's warning). Zero disables the gate.
	ExpiryFail time.Duration
	// Workers bounds the certs.d scan's concurrency; zero means GOMAXPROCS.
	Workers int
	// Containerd is the installed containerd's hosts.toml rules (the
	// caller detects it with `containerd --version`); zero means unknown,
	// and the checks report both 1.6/1.7's and 2.x's answers.
	Containerd loader.ContainerdVersion
	// Dockerd is what the caller knows about the daemon (version, image
	// store), which picks moby's or containerd's rules for
	// /etc/docker/certs.d; daemon.json's features are read by the doctor.
	Dockerd loader.DockerdFacts
	// AskContainerd and AskDockerd, when set and Containerd / Dockerd are
	// not, are asked the first time a check needs them (a certs.d root is
	// there to judge): they run processes that most runs do not need.
	AskContainerd func() loader.ContainerdVersion
	AskDockerd    func() loader.DockerdFacts
	// Dockerds are the dockerd processes running on this machine (the
	// caller lists /proc when the doctor reads the real root; nil
	// otherwise). The one serving the targets is read as it runs: its
	// command line and the --config-file it loaded.
	Dockerds []daemoncfg.Process
	// LocalTargets are the targets (host:port) that name this machine;
	// they pick the running dockerd listening there.
	LocalTargets []string
}

func (o *Options) normalise() error {
	if o.FS == nil {
		return fmt.Errorf("doctor: no file system to read")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.ExpiryWarn == 0 {
		o.ExpiryWarn = DefaultExpiryWarn
	}
	if o.ExpiryWarn < 0 {
		return fmt.Errorf("invalid expiry warning threshold %s: expected a positive duration", o.ExpiryWarn)
	}
	if o.ExpiryFail < 0 {
		return fmt.Errorf("invalid expiry failure threshold %s: expected a positive duration", o.ExpiryFail)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Env == nil {
		o.Env = map[string]string{}
	}
	return nil
}

func (o *Options) getenv(k string) string { return o.Env[k] }

// ParseExpiryWarn accepts "30d" (whole days) or a Go duration ("720h",
// "36h30m"), as the --expiry-warn flag does.
func ParseExpiryWarn(s string) (time.Duration, error) { return parseExpiry(s, "warning") }

// ParseExpiryFail parses the --expiry-fail value like ParseExpiryWarn.
func ParseExpiryFail(s string) (time.Duration, error) { return parseExpiry(s, "failure threshold") }

// FormatThreshold writes a threshold the way the flags take it: whole days
// as "7d", anything else as a Go duration.
func FormatThreshold(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

func parseExpiry(s, what string) (time.Duration, error) {
	v := strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("invalid expiry %s %q: expected a number of days like 30d or a duration like 720h", what, s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid expiry %s %q: expected a number of days like 30d or a duration like 720h", what, s)
	}
	return d, nil
}
