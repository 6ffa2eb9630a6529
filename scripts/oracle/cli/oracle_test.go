// Package clioracle runs docker/cli v29's own code (cli/flags ClientOptions,
// cli/command DockerCli Initialize and DockerEndpoint, the context store,
// cli/context/docker Endpoint.ClientOpts, the moby client) over generated
// environments, flags, config dirs and contexts, and asserts that
// pki/loader.ResolveCLI agrees on the context, host, TLS mode, the files
// loaded and the error text. docker/cli reads its environment into package
// variables at start-up, so each case runs docker's code in a fresh child
// process (this test binary re-executed).
package clioracle

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/cli/cli/command"
	cliflags "github.com/docker/cli/cli/flags"
	"github.com/moby/moby/client"
	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/docker-tls/docker-tls/pki/loader"
)

// answer is what one side concluded.
type answer struct {
	Context string   `json:"context"`
	Host    string   `json:"host"`
	TLS     bool     `json:"tls"`
	Skip    bool     `json:"skipTLSVerify"`
	CA      string   `json:"ca"` // sha256 of the bytes loaded, "" when none
	Cert    string   `json:"cert"`
	Key     string   `json:"key"`
	Err     string   `json:"error"`
	Warning string   `json:"configWarning"`
	Ignored []string `json:"ignored"`
}

func sum(b []byte) string {
	if b == nil {
		return ""
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:6])
}

const childEnv = "CLIORACLE_CHILD_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(childEnv); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		out, _ := json.Marshal(runDocker(args))
		os.Stdout.Write(out)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var schemeRE = regexp.MustCompile(`"(https?)://`)

// runDocker is docker/cli's own start-up with args as the global flags.
func runDocker(args []string) answer {
	var a answer
	var logs bytes.Buffer
	logrus.SetOutput(&logs)
	opts := cliflags.NewClientOptions()
	fl := pflag.NewFlagSet("docker", pflag.ContinueOnError)
	opts.InstallFlags(fl)
	if err := fl.Parse(args); err != nil {
		a.Err = "flag: " + err.Error()
		return a
	}
	opts.SetDefaultOptions(fl)
	var errOut bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the ping docker makes after resolving must not leave the process
	cli, err := command.NewDockerCli(command.WithCombinedStreams(&errOut), command.WithBaseContext(ctx))
	if err != nil {
		a.Err = "new: " + err.Error()
		return a
	}
	if err := cli.Initialize(opts); err != nil {
		a.Err = err.Error()
		return a
	}
	a.Warning = strings.TrimSpace(errOut.String())
	errOut.Reset()
	a.Context = cli.CurrentContext()
	ep := cli.DockerEndpoint()
	if s := strings.TrimSpace(errOut.String()); s != "" {
		a.Err = "Failed to initialize: " + s
		return a
	}
	a.Host = ep.Host
	if a.Host == "" {
		a.Host = client.DefaultDockerHost
	}
	a.Skip = ep.SkipTLSVerify
	if ep.TLSData != nil {
		a.CA, a.Cert, a.Key = sum(ep.TLSData.CA), sum(ep.TLSData.Cert), sum(ep.TLSData.Key)
	}
	// Whether docker speaks TLS: the scheme of the URL docker's own client
	// requests, learned from a dialer that refuses to connect.
	copts, err := ep.ClientOpts()
	if err == nil {
		copts = append(copts, client.WithDialContext(func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("oracle: no network")
		}))
		var c *client.Client
		if c, err = client.New(copts...); err == nil {
			_, perr := c.Ping(context.Background(), client.PingOptions{})
			if m := schemeRE.FindStringSubmatch(fmt.Sprint(perr)); m != nil {
				a.TLS = m[1] == "https"
			}
			c.Close()
		}
	}
	if err != nil {
		a.Err = "Failed to initialize: " + err.Error()
	}
	if !a.TLS {
		a.Skip = false
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if _, f, ok := strings.Cut(line, "TLS bundle: "); ok {
			a.Ignored = append(a.Ignored, strings.Trim(f, `"`))
		}
	}
	sort.Strings(a.Ignored)
	return a
}

// model is pki/loader's answer for the same case.
func model(c *tcase) answer {
	env := map[string]string{}
	for k, v := range c.env {
		env[k] = v
	}
	ep := loader.ResolveCLI(loader.CLIInput{
		FS:     os.DirFS("/"),
		Getenv: func(k string) string { return env[k] },
		Flags:  c.flags,
		Cwd:    c.dir,
	})
	a := answer{Context: ep.Context, Host: ep.Host, TLS: ep.TLS, Skip: ep.SkipTLSVerify,
		CA: sum(ep.CA), Cert: sum(ep.Cert), Key: sum(ep.Key), Err: ep.DockerLine(), Warning: ep.ConfigWarning}
	for _, p := range ep.Ignored {
		a.Ignored = append(a.Ignored, filepath.Base(p))
	}
	sort.Strings(a.Ignored)
	if a.Err != "" {
		// docker reports nothing else once it fails.
		a = answer{Err: a.Err, Warning: a.Warning, Context: a.Context}
		if strings.HasPrefix(a.Err, "conflicting options") {
			a.Context, a.Warning = "", ""
		}
	}
	return a
}

func oracle(t testing.TB, c *tcase) answer {
	args, _ := json.Marshal(c.args())
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Dir = c.dir
	cmd.Env = []string{childEnv + "=" + string(args), "PATH=" + os.Getenv("PATH")}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle child: %v\n%s", err, stderr.String())
	}
	var a answer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("oracle child output %q: %v", out, err)
	}
	if a.Err != "" {
		a = answer{Err: a.Err, Warning: a.Warning, Context: a.Context}
	}
	return a
}

// check runs both sides and prints the inputs and both answers when they
// disagree.
func check(t testing.TB, c *tcase) answer {
	want := oracle(t, c)
	got := model(c)
	wj, _ := json.MarshalIndent(want, "  ", "  ")
	gj, _ := json.MarshalIndent(got, "  ", "  ")
	if !bytes.Equal(wj, gj) {
		t.Errorf("model and docker/cli disagree\ninputs:\n%s\ndocker/cli v29:\n  %s\nmodel:\n  %s", c.describe(), wj, gj)
	}
	return want
}

// classes are what the corpus must reach, so that agreement means
// something: each is a pattern over docker's answer.
var classes = map[string]func(a answer) bool{
	"TLS, verified, client cert": func(a answer) bool { return a.TLS && !a.Skip && a.CA != "" && a.Cert != "" && a.Key != "" },
	"TLS, system roots":          func(a answer) bool { return a.TLS && !a.Skip && a.CA == "" && a.Err == "" },
	"TLS, skip verify":           func(a answer) bool { return a.TLS && a.Skip },
	"plain TCP":                  func(a answer) bool { return !a.TLS && strings.HasPrefix(a.Host, "tcp://") && a.Err == "" },
	"socket with TLS files":      func(a answer) bool { return !a.TLS && strings.HasPrefix(a.Host, "unix://") && a.CA != "" },
	"ca.pem missing":             errClass("unable to resolve docker endpoint: open .*ca.pem: no such file or directory"),
	"ca.pem invalid":             errClass("failed to retrieve context tls info: ca.pem seems invalid$"),
	"ca.pem a directory":         errClass("read .*ca.pem: is a directory"),
	"encrypted key":              errClass("private key is encrypted - support for encrypted private keys has been removed"),
	"key not PEM":                errClass("no valid private key found$"),
	"key pair mismatch":          errClass("failed to retrieve context tls info: tls: private key does not match public key"),
	"context not found":          errClass(`context "(nope|c1|c2)": context not found: open .*meta.json: no such file or directory`),
	"meta.json invalid":          errClass(`context "c[12]": parsing .*meta.json: unexpected end of JSON input`),
	"no docker endpoint":         errClass("cannot find docker endpoint in context$"),
	"conflicting options":        errClass("^conflicting options: cannot specify both --host and --context$"),
	"invalid bind address":       errClass("invalid bind address format"),
	"host parse error":           errClass(`parse "tcp://a b"`),
	"unparsable context host":    errClass("unable to parse docker host"),
	"flag file missing":          errClass("open .*missing-flag.*: no such file or directory"),
	"config.json warning":        func(a answer) bool { return strings.Contains(a.Warning, "WARNING: Error parsing config file") },
	"unknown context TLS file":   func(a answer) bool { return len(a.Ignored) > 0 },
	"dangling context TLS file":  errClass(`failed to retrieve TLS data \(ca.pem\) for context "c[12]": TLS data for c[12]/docker/ca.pem does not exist$`),
	"context TLS dir a file":     errClass(`failed to retrieve TLS files for context "c[12]": failed to list TLS files for context c[12]: open .*: not a directory$`),
	"meta.json a directory":      errClass(`context "c[12]": read .*meta.json: is a directory$`),
}

func errClass(re string) func(answer) bool {
	rx := regexp.MustCompile(re)
	return func(a answer) bool { return rx.MatchString(a.Err) }
}

// ---- generated inputs ----

// material is one set of PEM blobs; every file gets a unique trailer so
// that the bytes a side loaded name the file.
type material struct {
	ca, cert, key, encKey, otherKey []byte
}

var (
	matOnce sync.Once
	mat     material
)

func genMaterial(t testing.TB) material {
	matOnce.Do(func() {
		caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		now := time.Now()
		caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "oracle CA"}, NotBefore: now.Add(-time.Hour),
			NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		ca, _ := x509.ParseCertificate(caDER)
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client"}, NotBefore: now.Add(-time.Hour),
			NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
		leafDER, err := x509.CreateCertificate(rand.Reader, lt, ca, &k.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		kDER, _ := x509.MarshalECPrivateKey(k)
		ok, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		okDER, _ := x509.MarshalECPrivateKey(ok)
		//lint:ignore SA1019 an encrypted key as users still have them
		enc, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", kDER, []byte("pw"), x509.PEMCipherAES256)
		if err != nil {
			panic(err)
		}
		mat = material{
			ca:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
			cert:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
			key:      pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kDER}),
			encKey:   pem.EncodeToMemory(enc),
			otherKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: okDER}),
		}
	})
	return mat
}

// Variants of one file slot.
var (
	caVariants   = []string{"good", "good", "good", "good", "missing", "junk", "empty", "dir", "cert"}
	certVariants = []string{"good", "good", "good", "good", "missing", "junk", "ca"}
	keyVariants  = []string{"good", "good", "good", "good", "missing", "junk", "enc", "other"}
)

func (m material) content(kind, variant, p string) ([]byte, bool, bool) {
	trailer := []byte("\n# " + p + "\n")
	var b []byte
	switch variant {
	case "missing":
		return nil, false, false
	case "dir":
		return nil, true, true
	case "junk":
		return []byte("not PEM: " + p + "\n"), true, false
	case "empty":
		return []byte{}, true, false
	case "good":
		switch kind {
		case "ca":
			b = m.ca
		case "cert":
			b = m.cert
		default:
			b = m.key
		}
	case "cert":
		b = m.cert
	case "ca":
		b = m.ca
	case "enc":
		b = m.encKey
	case "other":
		b = m.otherKey
	}
	return append(append([]byte{}, b...), trailer...), true, false
}

// tcase is one generated input.
type tcase struct {
	dir   string
	env   map[string]string
	flags loader.CLIFlags
	files []string // what was written, for messages
}

func (c *tcase) args() []string {
	f := c.flags
	var a []string
	if f.Config != "" {
		a = append(a, "--config", f.Config)
	}
	for _, h := range f.Hosts {
		a = append(a, "-H", h)
	}
	if f.Context != "" {
		a = append(a, "--context", f.Context)
	}
	if f.TLS != nil {
		a = append(a, fmt.Sprintf("--tls=%t", *f.TLS))
	}
	if f.TLSVerify != nil {
		a = append(a, fmt.Sprintf("--tlsverify=%t", *f.TLSVerify))
	}
	for _, x := range []struct {
		n string
		v *string
	}{{"--tlscacert", f.TLSCACert}, {"--tlscert", f.TLSCert}, {"--tlskey", f.TLSKey}} {
		if x.v != nil {
			a = append(a, x.n+"="+*x.v)
		}
	}
	return a
}

func (c *tcase) describe() string {
	var b strings.Builder
	keys := make([]string, 0, len(c.env))
	for k := range c.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(&b, "  cwd: %s\n  env:", c.dir)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, c.env[k])
	}
	fmt.Fprintf(&b, "\n  docker %s ...\n  files:\n", strings.Join(c.args(), " "))
	for _, f := range c.files {
		fmt.Fprintf(&b, "    %s\n", f)
	}
	return b.String()
}

// chooser draws choices from fuzz bytes (or a seeded stream).
type chooser struct {
	b []byte
	i int
}

func (ch *chooser) n(k int) int {
	if ch.i >= len(ch.b) {
		return 0
	}
	v := int(ch.b[ch.i])
	ch.i++
	return v % k
}

func (ch *chooser) pick(opts []string) string { return opts[ch.n(len(opts))] }

func (ch *chooser) boolPtr() *bool {
	switch ch.n(3) {
	case 1:
		v := true
		return &v
	case 2:
		v := false
		return &v
	}
	return nil
}

var (
	hostValues = []string{"", "tcp://127.0.0.1:2376", "127.0.0.1:2376", "localhost", "tcp://", "tcp://localhost",
		"unix:///run/oracle.sock", "ssh://u@127.0.0.1", "foo://x", "tcp://[::1]:2376", ":2376", "tcp://a b",
		"[::1]", "tcp://127.0.0.1:2375/path", "npipe:////./pipe/x", "fd://", "127.0.0.1:", "http://127.0.0.1:2376"}
	ctxHostValues = []string{"tcp://127.0.0.1:2376", "unix:///run/oracle.sock", "", "127.0.0.1:2376", "ssh://u@127.0.0.1",
		"tcp://localhost:2375", "https://127.0.0.1:2376", "tcp://a b"}
	contextNames = []string{"c1", "c2", "nope", "default"}
)

// build writes a generated tree under dir and returns the case.
func build(t testing.TB, dir string, ch *chooser) *tcase {
	m := genMaterial(t)
	c := &tcase{dir: dir, env: map[string]string{}}
	home := filepath.Join(dir, "home")
	write := func(p string, data []byte, isDir bool) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if isDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			c.files = append(c.files, p+"/")
			return
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c.files = append(c.files, fmt.Sprintf("%s (%d bytes)", p, len(data)))
	}
	slot := func(kind, variant, p string) {
		data, ok, isDir := m.content(kind, variant, p)
		if ok {
			write(p, data, isDir)
		}
	}
	tlsDir := func(d string) {
		slot("ca", ch.pick(caVariants), filepath.Join(d, "ca.pem"))
		slot("cert", ch.pick(certVariants), filepath.Join(d, "cert.pem"))
		slot("key", ch.pick(keyVariants), filepath.Join(d, "key.pem"))
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	c.env["HOME"] = home
	cfgDirs := []string{filepath.Join(home, ".docker"), filepath.Join(dir, "cfg")}
	// Client material in ~/.docker and in a DOCKER_CERT_PATH directory.
	tlsDir(cfgDirs[0])
	tlsDir(filepath.Join(dir, "certs"))
	// Config files and contexts in both config dirs.
	for _, cd := range cfgDirs {
		switch ch.n(5) {
		case 1:
			write(filepath.Join(cd, "config.json"), []byte(`{"currentContext":"c1"}`), false)
		case 2:
			write(filepath.Join(cd, "config.json"), []byte(`{"currentContext":"nope"}`), false)
		case 3:
			write(filepath.Join(cd, "config.json"), []byte(`{bad json`), false)
		case 4:
			write(filepath.Join(cd, "config.json"), []byte(`{"currentContext":5,"auths":{}}`), false)
		}
		for _, name := range []string{"c1", "c2"} {
			metaDir, tlsRoot := loader.ContextDir(cd, name)
			switch ch.n(8) {
			case 0:
				continue // no such context
			case 1:
				write(filepath.Join(metaDir, "meta.json"), []byte(`{"Name":"`+name+`",`), false)
				continue
			case 2:
				write(filepath.Join(metaDir, "meta.json"), []byte(`{"Name":"`+name+`","Endpoints":{}}`), false)
				continue
			case 3:
				write(filepath.Join(metaDir, "meta.json"), nil, true) // a directory
				continue
			}
			meta := map[string]any{"Name": name, "Metadata": map[string]any{"Description": "oracle"},
				"Endpoints": map[string]any{"docker": map[string]any{"Host": ch.pick(ctxHostValues), "SkipTLSVerify": ch.n(2) == 1}}}
			data, _ := json.Marshal(meta)
			write(filepath.Join(metaDir, "meta.json"), data, false)
			switch ch.n(7) {
			case 1:
				tlsDir(filepath.Join(tlsRoot, "docker"))
			case 2:
				write(filepath.Join(tlsRoot, "docker"), nil, true) // empty: TLS with system roots
			case 3:
				tlsDir(filepath.Join(tlsRoot, "docker"))
				slot("ca", "good", filepath.Join(tlsRoot, "docker", "ca.crt"))
			case 4:
				write(tlsRoot, []byte("not a directory"), false)
			case 5:
				// A dangling symbolic link listed as a file.
				tlsDir(filepath.Join(tlsRoot, "docker"))
				ca := filepath.Join(tlsRoot, "docker", "ca.pem")
				os.Remove(ca)
				if err := os.MkdirAll(filepath.Dir(ca), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.Join(dir, "gone.pem"), ca); err != nil {
					t.Fatal(err)
				}
				c.files = append(c.files, ca+" -> "+filepath.Join(dir, "gone.pem"))
			case 6:
				// A sub-directory in the endpoint dir and another endpoint.
				tlsDir(filepath.Join(tlsRoot, "docker"))
				write(filepath.Join(tlsRoot, "docker", "sub"), nil, true)
				slot("ca", "junk", filepath.Join(tlsRoot, "kubernetes", "ca.pem"))
			}
		}
	}
	// Files named by flags.
	for _, x := range []struct{ kind, name string }{{"ca", "flagca.pem"}, {"cert", "flagcert.pem"}, {"key", "flagkey.pem"}} {
		slot(x.kind, "good", filepath.Join(dir, "flags", x.name))
	}
	// Environment.
	if h := ch.pick(hostValues); h != "" {
		c.env["DOCKER_HOST"] = h
	}
	if v := ch.pick([]string{"", "1", "0"}); v != "" {
		c.env["DOCKER_TLS_VERIFY"] = v
	}
	if ch.n(3) == 1 {
		c.env["DOCKER_TLS"] = "1"
	}
	switch ch.n(5) {
	case 1:
		c.env["DOCKER_CERT_PATH"] = filepath.Join(dir, "certs")
	case 2:
		c.env["DOCKER_CERT_PATH"] = filepath.Join(dir, "missing")
	case 3:
		c.env["DOCKER_CERT_PATH"] = "certs" // relative to the working directory
	case 4:
		c.env["DOCKER_CERT_PATH"] = filepath.Join(dir, "certs") + "/"
	}
	if ch.n(3) == 1 {
		c.env["DOCKER_CONFIG"] = cfgDirs[1]
	}
	if v := ch.pick(append([]string{"", ""}, contextNames...)); v != "" {
		c.env["DOCKER_CONTEXT"] = v
	}
	// Flags.
	f := &c.flags
	switch ch.n(6) {
	case 1:
		f.Config = cfgDirs[1]
	case 2:
		f.Config = cfgDirs[0]
	}
	if ch.n(4) == 1 {
		f.Hosts = []string{ch.pick(hostValues)}
	}
	if ch.n(4) == 1 {
		f.Context = ch.pick(contextNames)
	}
	f.TLS = ch.boolPtr()
	f.TLSVerify = ch.boolPtr()
	path := func(name string) *string {
		var v string
		switch ch.n(10) {
		case 1, 4:
			v = filepath.Join(dir, "flags", name)
		case 2:
			v = filepath.Join(dir, "flags", "missing-"+name)
		case 3:
			v = filepath.Join("flags", name) // relative
		default:
			return nil
		}
		return &v
	}
	f.TLSCACert, f.TLSCert, f.TLSKey = path("flagca.pem"), path("flagcert.pem"), path("flagkey.pem")
	return c
}

func seedStream(seed int64, n int) []byte {
	b := make([]byte, n)
	x := uint64(seed)*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// TestCorpus runs generated cases from fixed seeds.
func TestCorpus(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 40
	}
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		i := i
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				c := build(t, t.TempDir(), &chooser{b: seedStream(int64(i), 96)})
				a := check(t, c)
				mu.Lock()
				for name, match := range classes {
					if match(a) {
						seen[name]++
					}
				}
				mu.Unlock()
			})
		}()
	}
	wg.Wait()
	if testing.Short() {
		return
	}
	for name := range classes {
		if seen[name] == 0 {
			t.Errorf("the corpus never reached %q: extend the generator", name)
		}
	}
	t.Logf("classes reached: %v", seen)
}

// FuzzCLI draws the inputs from the fuzzer's bytes.
func FuzzCLI(f *testing.F) {
	for i := 0; i < 8; i++ {
		f.Add(seedStream(int64(1000+i), 96))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, build(t, t.TempDir(), &chooser{b: b}))
	})
}
