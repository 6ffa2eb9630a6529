package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/regerr"
	"github.com/moby/moby/client"
	"go.opentelemetry.io/otel/trace/noop"
)

// Stage is a rung of the ladder.
type Stage string

const (
	StageConfig    Stage = "client-config"
	StageResolve   Stage = "resolve"
	StageConnect   Stage = "connect"
	StageSniff     Stage = "sniff"
	StageHandshake Stage = "handshake"
	StageVerify    Stage = "verify-server"
	StageClientCrt Stage = "client-certificate"
	StageHTTP      Stage = "http"
)

// Options tune a probe.
type Options struct {
	// Timeout bounds each rung (default 5s).
	Timeout time.Duration
	// SniffWait is how long to listen for a server that speaks first (an SSH
	// banner) before starting TLS. The default, 0, does not wait: the first
	// record the server answers the ClientHello with tells TLS, HTTP and
	// banners apart just as well, without adding latency.
	SniffWait time.Duration
	// Now is the clock for certificate validity (tests pin it).
	Now func() time.Time
	// Resolver, when set, replaces DNS resolution (tests).
	Resolver func(ctx context.Context, host string) ([]string, error)
	// Progress, when set, is told when a step of the probe of addr starts
	// (stage "" when the probe ends), for a progress line.
	Progress func(addr string, stage Stage)
	// APIVersion returns the API version the installed docker CLI uses
	// before negotiating ("1.50" for docker 28.2): docker's quoted lines
	// carry it in their URLs. It is called only when a line is needed
	// (a failure), so a healthy probe never pays for asking docker. nil or
	// "" uses the bundled client's.
	APIVersion func() string
}

// clientOpts adds the installed CLI's API version, when known, to a moby
// client's options.
func (o Options) clientOpts(opts ...client.Opt) []client.Opt {
	if v := o.apiVersion(); v != "" {
		opts = append(opts, client.WithAPIVersion(v))
	}
	return opts
}

func (o Options) apiVersion() string {
	if o.APIVersion == nil {
		return ""
	}
	return o.APIVersion()
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.SniffWait > o.Timeout {
		o.SniffWait = o.Timeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// CertSummary describes a certificate the server presented.
type CertSummary struct {
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	DNSNames    []string  `json:"dnsNames,omitempty"`
	IPAddresses []string  `json:"ipAddresses,omitempty"`
	NotBefore   time.Time `json:"notBefore"`
	NotAfter    time.Time `json:"notAfter"`
	IsCA        bool      `json:"isCA"`
	ExtKeyUsage []string  `json:"extKeyUsage,omitempty"`
	Fingerprint string    `json:"sha256Fingerprint"`
}

// Evidence is what the probe learned, kept even when a later rung fails.
type Evidence struct {
	Addrs          []string          `json:"addresses,omitempty"`
	Banner         string            `json:"banner,omitempty"`
	SpeaksTLS      *bool             `json:"speaksTLS,omitempty"`
	TLSVersion     string            `json:"tlsVersion,omitempty"`
	CipherSuite    string            `json:"cipherSuite,omitempty"`
	ServerChain    []CertSummary     `json:"serverChain,omitempty"`
	CertRequested  bool              `json:"clientCertRequested"`
	AcceptableCAs  []string          `json:"acceptableCAs,omitempty"`
	ClientCertSent string            `json:"clientCertSent,omitempty"`
	Alert          string            `json:"alert,omitempty"`
	Retries        map[string]string `json:"retries,omitempty"`
	HTTPStatus     int               `json:"httpStatus,omitempty"`
	ServerVersion  string            `json:"serverVersion,omitempty"`
	APIVersion     string            `json:"apiVersion,omitempty"`
	RegistryAPI    string            `json:"registryAPI,omitempty"`
}

// StageResult is one rung's outcome.
type StageResult struct {
	Stage    Stage         `json:"stage"`
	Duration time.Duration `json:"-"`
	Err      string        `json:"error,omitempty"`
}

// Result of probing one target.
type Result struct {
	Target  Target  `json:"-"`
	Outcome Outcome `json:"outcome"`
	// Stage is the first failing rung ("" when all passed).
	Stage Stage `json:"stage,omitempty"`
	// Err is the raw error at that rung.
	Err string `json:"error,omitempty"`
	// DockerError is the line the docker client (or dockerd, for a
	// registry) prints for this setup; for a registry, docker pull's.
	DockerError string `json:"dockerError,omitempty"`
	// DockerPushError is, for a registry, docker push's line: the same
	// failure, streamed without "Error response from daemon: ", and with
	// the containerd image store from another request (see
	// registryLines).
	DockerPushError string        `json:"dockerPushError,omitempty"`
	Cause           string        `json:"cause,omitempty"`
	Fix             string        `json:"fix,omitempty"`
	Evidence        Evidence      `json:"evidence"`
	Stages          []StageResult `json:"stages"`

	client     Client
	now        func() time.Time
	cfg        *tls.Config
	clientCrts [][]*x509.Certificate
	peer       []*x509.Certificate
	verifyErr  error
	roots      *x509.CertPool
	// registryAnswer is a registry's error answer to GET /v2/ as dockerd's
	// registry client words it ("unauthorized: authentication required").
	registryAnswer string
	// registryChallenge is the auth scheme the registry asks for
	// ("basic", "bearer").
	registryChallenge string
}

func (r *Result) stage(s Stage, start time.Time, err error) {
	sr := StageResult{Stage: s, Duration: time.Since(start)}
	if err != nil {
		sr.Err = err.Error()
	}
	r.Stages = append(r.Stages, sr)
}

func (r *Result) fail(s Stage, o Outcome, err error) *Result {
	r.Stage, r.Outcome = s, o
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

// step tells the progress reporter that stage starts.
func (o Options) step(t Target, s Stage) {
	if o.Progress != nil {
		o.Progress(t.Addr(), s)
	}
}

// Probe runs the ladder against t with the client's material.
func Probe(ctx context.Context, t Target, c Client, o Options) *Result {
	o.defaults()
	r := &Result{Target: t, client: c, now: o.Now}
	defer o.step(t, "")
	r.run(ctx, o)
	if c.Insecure != "" && !c.ContainerdStore && c.Mirror == "" && t.Role == RoleRegistry && !r.Outcome.OK() && (r.Evidence.CertRequested || r.Evidence.TLSVersion != "") {
		// moby's classic store tries an insecure registry's https
		// endpoint, then its http one: docker prints the last error.
		if line := r.insecureFallbackLine(ctx, o); line != "" {
			// docker push reports the http endpoint's error, the last
			// one it tried. docker pull reports the https endpoint's
			// transport error instead (seen: "read tcp A->B: read:
			// connection reset by peer", or the registry's alert: a race),
			// which is not modelled: no pull line.
			r.DockerError = ""
			r.DockerPushError = strings.TrimRight(strings.TrimPrefix(line, dockerdPrefix), "\n")
		}
	}
	if t.Role == RoleRegistry {
		r.registryWording()
	}
	r.diagnose(o)
	return r
}

// dockerdPrefix is how docker prints an error the daemon's API returned
// (docker pull); docker push streams its error without it.
const dockerdPrefix = "Error response from daemon: "

// registryWording completes a registry's lines: docker push's, where no
// request-specific form was set, is docker pull's without the daemon
// prefix; and a dockerd built with Go < 1.20 (20.10: LegacyErrors) words a
// verification failure without Go 1.20's "tls: failed to verify
// certificate: ".
//
// Go's HTTP transport reports a TLS alert that arrives after the handshake
// (TLS 1.3: a refused client certificate) from its request or, when its
// read loop sees it first, prefixed "readLoopPeekFailLocked: ": a race in
// dockerd as in the probe. The lines give the usual form, without it.
func (r *Result) registryWording() {
	if r.DockerPushError == "" {
		r.DockerPushError = strings.TrimPrefix(r.DockerError, dockerdPrefix)
	}
	for _, p := range []*string{&r.DockerError, &r.DockerPushError} {
		*p = strings.Replace(*p, "readLoopPeekFailLocked: ", "", 1)
		if r.client.LegacyErrors {
			*p = strings.Replace(*p, "tls: failed to verify certificate: ", "", 1)
		}
	}
}

// insecureFallbackLine is docker's error from an insecure registry's http
// endpoint (moby registry/service_v2.go lookupV2Endpoints adds it after
// https): the registry's answer to plain HTTP, worded by the daemon's
// vendored distribution client (registry/client/errors.go
// parseHTTPErrorResponse).
func (r *Result) insecureFallbackLine(ctx context.Context, o Options) string {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	hc := &http.Client{Timeout: o.Timeout, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Target.HostPort()+"/v2/", nil)
	if err != nil {
		return ""
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "Error response from daemon: " + err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 400 {
		return ""
	}
	if line, ok := regerr.Text(resp.StatusCode, resp.Status, resp.Header, body, r.client.LegacyErrors); ok {
		return "Error response from daemon: " + line
	}
	return ""
}

func (r *Result) run(ctx context.Context, o Options) {
	t, c := r.Target, r.client
	var cfg *tls.Config
	if c.ConfigErr != nil {
		err := &ConfigError{Err: c.ConfigErr}
		r.stage(StageConfig, time.Now(), err)
		r.fail(StageConfig, OutcomeClientConfig, err)
		r.DockerError = err.Error()
		return
	}
	if c.TLS {
		start := time.Now()
		var err error
		cfg, r.clientCrts, err = c.config(t.Role)
		r.stage(StageConfig, start, err)
		if err != nil {
			r.fail(StageConfig, OutcomeClientConfig, err)
			r.DockerError = r.dockerLine(ctx, o, nil, err)
			return
		}
		r.roots = cfg.RootCAs
		r.cfg = cfg
	}

	// Resolve.
	o.step(t, StageResolve)
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, o.Timeout)
	addrs, err := resolve(rctx, t.Host, o)
	cancel()
	r.stage(StageResolve, start, err)
	if err != nil {
		r.fail(StageResolve, OutcomeResolveFailed, err)
		r.DockerError = r.dockerLine(ctx, o, nil, err)
		return
	}
	r.Evidence.Addrs = addrs

	// Connect.
	o.step(t, StageConnect)
	start = time.Now()
	conn, err := dial(ctx, addrs, t.Port, o.Timeout)
	r.stage(StageConnect, start, err)
	if err != nil {
		out := OutcomeConnectFailed
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			out = OutcomeConnectTimeout
		} else if strings.Contains(err.Error(), "connection refused") {
			out = OutcomeConnectRefused
		}
		r.fail(StageConnect, out, err)
		r.DockerError = r.dockerLine(ctx, o, nil, err)
		return
	}

	// Sniff: a server that speaks first is not TLS.
	o.step(t, StageSniff)
	start = time.Now()
	br := bufio.NewReader(conn)
	if o.SniffWait > 0 {
		conn.SetReadDeadline(time.Now().Add(o.SniffWait))
		br.Peek(1)
	}
	if br.Buffered() > 0 {
		conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n := br.Buffered()
		if n > 64 {
			n = 64
		}
		banner, _ := br.Peek(n)
		r.Evidence.Banner = printable(banner)
	}
	conn.SetReadDeadline(time.Time{})
	r.stage(StageSniff, start, nil)
	if r.Evidence.Banner != "" {
		conn.Close()
		f := false
		r.Evidence.SpeaksTLS = &f
		err := errors.New("tls: first record does not look like a TLS handshake")
		r.fail(StageSniff, OutcomeNotTLS, err)
		r.DockerError = r.dockerLine(ctx, o, nil, err)
		return
	}
	pc := &prefixConn{Conn: conn, r: br}

	if !c.TLS {
		// The client speaks plain HTTP. Learn whether the server speaks TLS
		// with a handshake on a second connection, then reproduce what the
		// client sees on this one.
		o.step(t, StageHTTP)
		speaks := r.speaksTLS(ctx, addrs, o)
		r.Evidence.SpeaksTLS = &speaks
		if t.Role == RoleRegistry {
			// dockerd speaks plain HTTP to the registry (an http://
			// mirror): GET /v2/ as it does.
			pc.Close()
			if speaks {
				r.fail(StageHTTP, OutcomePlainClientToTLS, fmt.Errorf("%s speaks TLS; dockerd speaks plain HTTP to it", t.Addr()))
				return
			}
			r.plainRegistry(ctx, o)
			return
		}
		line, status := r.plainHTTP(ctx, o, pc)
		r.DockerError = line
		r.Evidence.HTTPStatus = status
		if speaks {
			r.fail(StageHTTP, OutcomePlainClientToTLS, errors.New(line))
			return
		}
		if line != "" {
			r.fail(StageHTTP, OutcomeHTTPError, errors.New(line))
			return
		}
		r.Outcome = OutcomeOKPlain
		return
	}

	// Handshake, with server verification done as Go does it but with the
	// chain kept, and the client certificate chosen as Go chooses it.
	o.step(t, StageHandshake)
	start = time.Now()
	tc, herr := r.handshake(ctx, pc, cfg, o, 0)
	r.stage(StageHandshake, start, herr)
	if herr != nil {
		r.classifyHandshake(herr)
		if r.Outcome == OutcomePlainHTTPServer && r.Target.Role == RoleRegistry && c.Insecure != "" && (c.Mirror == "" || c.ContainerdStore) {
			// (moby's classic store has no http endpoint for an https://
			// mirror: lookupV2Endpoints adds one endpoint per mirror.)
			// dockerd's fallback for an insecure registry: plain HTTP.
			r.plainRegistry(ctx, o)
			return
		}
		if r.Outcome == OutcomeHandshakeFailed || r.Outcome == OutcomeTLSVersion {
			r.retryVersions(ctx, addrs, cfg, o)
		}
		r.DockerError = r.dockerLine(ctx, o, nil, herr)
		return
	}
	yes := true
	r.Evidence.SpeaksTLS = &yes

	// HTTP over the established connection: with TLS 1.3 the server's
	// verdict on the client certificate arrives here.
	o.step(t, StageHTTP)
	start = time.Now()
	err = r.httpCall(ctx, o, tc)
	r.stage(StageHTTP, start, err)
	if err != nil {
		if alert := alertText(err); alert != "" {
			r.Evidence.Alert = alert
			r.classifyAlert(StageClientCrt, alert, err)
		} else if r.Outcome == "" && lostVerdict(r, err) {
			// With TLS 1.3 the server judges the client certificate after
			// the handshake; when it closes at once, the reset can overtake
			// its alert. The server asked for a certificate: that verdict.
			r.Evidence.Alert = "(lost: " + err.Error() + ")"
			verdict := "bad certificate"
			if r.Evidence.ClientCertSent == "" {
				verdict = "certificate required"
			}
			r.classifyAlert(StageClientCrt, verdict, err)
		} else if r.Outcome == "" {
			r.fail(StageHTTP, OutcomeHTTPError, err)
		}
		return
	}
	r.Outcome = OutcomeOK
}

func resolve(ctx context.Context, host string, o Options) ([]string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []string{ip.String()}, nil
	}
	if o.Resolver != nil {
		return o.Resolver(ctx, host)
	}
	return net.DefaultResolver.LookupHost(ctx, host)
}

func dial(ctx context.Context, addrs []string, port int, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	var first error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a, fmt.Sprint(port)))
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// prefixConn replays bytes the sniff buffered.
type prefixConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *prefixConn) Read(b []byte) (int, error) { return p.r.Read(b) }

func printable(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		} else if c == '\r' || c == '\n' {
			sb.WriteString(" ")
		} else {
			fmt.Fprintf(&sb, "\\x%02x", c)
		}
	}
	return strings.TrimSpace(sb.String())
}

// handshake runs a TLS handshake on conn. maxVersion 0 keeps the default.
func (r *Result) handshake(ctx context.Context, conn net.Conn, base *tls.Config, o Options, maxVersion uint16) (*tls.Conn, error) {
	cfg := base.Clone()
	cfg.ServerName = r.Target.Host
	cfg.Time = o.Now
	if maxVersion != 0 {
		cfg.MaxVersion = maxVersion
	}
	skip := base.InsecureSkipVerify
	roots := base.RootCAs
	cfg.InsecureSkipVerify = true
	var mu sync.Mutex
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		mu.Lock()
		defer mu.Unlock()
		r.peer = cs.PeerCertificates
		r.Evidence.ServerChain = summarize(cs.PeerCertificates)
		if skip {
			return nil
		}
		opts := x509.VerifyOptions{Roots: roots, CurrentTime: o.Now(), DNSName: r.Target.Host, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			r.verifyErr = err
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
	certs := base.Certificates
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		mu.Lock()
		defer mu.Unlock()
		r.Evidence.CertRequested = true
		r.Evidence.AcceptableCAs = nil
		for _, dn := range cri.AcceptableCAs {
			r.Evidence.AcceptableCAs = append(r.Evidence.AcceptableCAs, rdnString(dn))
		}
		// Go's own choice (crypto/tls getClientCertificate): the first
		// certificate the request supports, else none at all.
		for i := range certs {
			if cri.SupportsCertificate(&certs[i]) == nil {
				if i < len(r.clientCrts) && len(r.clientCrts[i]) > 0 {
					r.Evidence.ClientCertSent = r.clientCrts[i][0].Subject.String()
				}
				return &certs[i], nil
			}
		}
		r.Evidence.ClientCertSent = ""
		return new(tls.Certificate), nil
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		if hctx.Err() != nil && !isAlert(err) {
			return nil, fmt.Errorf("TLS handshake timeout after %s: %w", o.Timeout, err)
		}
		return nil, err
	}
	st := tc.ConnectionState()
	r.Evidence.TLSVersion = tls.VersionName(st.Version)
	r.Evidence.CipherSuite = tls.CipherSuiteName(st.CipherSuite)
	return tc, nil
}

func isAlert(err error) bool {
	var a tls.AlertError
	return errors.As(err, &a) || strings.Contains(err.Error(), "remote error: tls:")
}

func alertText(err error) string {
	s := err.Error()
	if i := strings.Index(s, "remote error: tls: "); i >= 0 {
		return strings.TrimSpace(s[i+len("remote error: tls: "):])
	}
	return ""
}

// speaksTLS reports whether the endpoint completes (or at least answers) a
// TLS handshake, without verification or client certificate.
func (r *Result) speaksTLS(ctx context.Context, addrs []string, o Options) bool {
	conn, err := dial(ctx, addrs, r.Target.Port, o.Timeout)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(o.Timeout))
	// Whether the server asks for a client certificate is part of what
	// it is: with TLS 1.3 the handshake completes on the client's side
	// before the server refuses the empty certificate, and without this
	// a daemon with tlsverify, seen from a plain client, would look like
	// one that admits anyone.
	requested := false
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: r.Target.Host,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			requested = true
			return &tls.Certificate{}, nil
		}})
	err = tc.Handshake()
	if requested {
		r.Evidence.CertRequested = true
	}
	if err == nil {
		r.Evidence.ServerChain = summarize(tc.ConnectionState().PeerCertificates)
		r.Evidence.TLSVersion = tls.VersionName(tc.ConnectionState().Version)
		return true
	}
	var rh tls.RecordHeaderError
	return !errors.As(err, &rh) && isAlert(err)
}

func (r *Result) retryVersions(ctx context.Context, addrs []string, cfg *tls.Config, o Options) {
	r.Evidence.Retries = map[string]string{}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		conn, err := dial(ctx, addrs, r.Target.Port, o.Timeout)
		if err != nil {
			r.Evidence.Retries[tls.VersionName(v)] = err.Error()
			continue
		}
		saved := r.Evidence
		tc, err := r.handshake(ctx, conn, cfg, o, v)
		retries := r.Evidence.Retries
		r.Evidence = saved
		r.Evidence.Retries = retries
		if err != nil {
			r.Evidence.Retries[tls.VersionName(v)] = err.Error()
			continue
		}
		r.Evidence.Retries[tls.VersionName(v)] = "handshake completed"
		tc.Close()
	}
}

func summarize(certs []*x509.Certificate) []CertSummary {
	out := make([]CertSummary, 0, len(certs))
	for _, c := range certs {
		s := CertSummary{
			Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			DNSNames: c.DNSNames, NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
			IsCA: c.IsCA, Fingerprint: pki.Fingerprint(c),
		}
		for _, ip := range c.IPAddresses {
			s.IPAddresses = append(s.IPAddresses, ip.String())
		}
		s.ExtKeyUsage = pki.ExtKeyUsageNames(c)
		out = append(out, s)
	}
	return out
}

// httpCall proves what answered, over the established connection: the moby
// client's /_ping and /version for a daemon, GET /v2/ for a registry.
func (r *Result) httpCall(ctx context.Context, o Options, tc *tls.Conn) error {
	// The whole rung, every request the client makes included, gets
	// o.Timeout: a server that stalls or streams forever must not hold the
	// probe for a timeout per request.
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	hc := r.httpClient(o, r.cfg, func(context.Context) (net.Conn, error) { return tc, nil })
	defer hc.CloseIdleConnections()
	if r.Target.Role == RoleRegistry {
		return r.registryGet(ctx, o, hc)
	}
	cli, err := client.New(client.WithHost("tcp://"+r.Target.Addr()), client.WithHTTPClient(hc), client.WithTimeout(o.Timeout), noTracing)
	if err != nil {
		return err
	}
	defer cli.Close()
	// Negotiating here, as docker does, lets /version reuse the answer
	// instead of pinging again.
	ping, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		// `docker version` ignores a failed ping and reports the /version
		// call's error: reproduce that line.
		r.DockerError = err.Error()
		if _, verr := cli.ServerVersion(ctx, client.ServerVersionOptions{}); verr != nil {
			r.DockerError = r.pinnedLine(ctx, o, hc, false, verr.Error())
		}
		return err
	}
	r.Evidence.APIVersion = ping.APIVersion
	v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		r.DockerError = err.Error()
		return err
	}
	r.Evidence.HTTPStatus = http.StatusOK
	r.Evidence.ServerVersion = v.Version
	return nil
}

func (r *Result) registryGet(ctx context.Context, o Options, hc *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+r.Target.HostPort()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		r.DockerError = r.registryLine(err)
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	r.Evidence.HTTPStatus = resp.StatusCode
	r.Evidence.RegistryAPI = resp.Header.Get("Docker-Distribution-Api-Version")
	if resp.StatusCode >= 400 {
		if text, ok := regerr.Text(resp.StatusCode, resp.Status, resp.Header, body, r.client.LegacyErrors); ok {
			r.registryAnswer = text
		}
		if ch := resp.Header.Get("Www-Authenticate"); ch != "" {
			r.registryChallenge, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(ch)), " ")
		}
	}
	if r.Evidence.RegistryAPI == "" {
		err := fmt.Errorf("GET /v2/ answered %s without a Docker-Distribution-Api-Version header: not a registry", resp.Status)
		r.fail(StageHTTP, OutcomeNotRegistry, err)
		return err
	}
	return nil
}

// httpClient is an HTTP client whose first connection is what first gives
// (the probe's own connection, or the error the probe met), so that docker's
// own client code formats any failure exactly as the user sees it. Later
// dials (the transport retries, or opens a second connection) call again
// when first failed, and otherwise dial afresh with cfg.
func (r *Result) httpClient(o Options, cfg *tls.Config, first func(context.Context) (net.Conn, error)) *http.Client {
	var mu sync.Mutex
	used := false
	var firstErr error
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		if !used {
			used = true
			mu.Unlock()
			c, err := first(ctx)
			mu.Lock()
			firstErr = err
			mu.Unlock()
			return c, err
		}
		err := firstErr
		mu.Unlock()
		if err != nil {
			return nil, err
		}
		d := &net.Dialer{Timeout: o.Timeout}
		if cfg == nil {
			return d.DialContext(ctx, network, addr)
		}
		c := cfg.Clone()
		c.ServerName = r.Target.Host
		return (&tls.Dialer{NetDialer: d, Config: c}).DialContext(ctx, network, addr)
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{ServerName: r.Target.Host},
		TLSHandshakeTimeout: o.Timeout,
		MaxIdleConnsPerHost: 1,
		DialTLSContext:      dialer,
		DialContext:         dialer,
	}
	return &http.Client{Transport: tr, Timeout: o.Timeout}
}

// dockerLine reproduces what docker prints when the connection fails with
// err, by handing err to docker's own client code.
func (r *Result) dockerLine(ctx context.Context, o Options, conn net.Conn, cause error) string {
	var ce *ConfigError
	if errors.As(cause, &ce) {
		return ce.Error()
	}
	hc := r.httpClient(o, nil, func(context.Context) (net.Conn, error) {
		if conn != nil {
			return conn, nil
		}
		return nil, cause
	})
	defer hc.CloseIdleConnections()
	if r.Target.Role == RoleRegistry {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+r.Target.HostPort()+"/v2/", nil)
		if err != nil {
			return "Error response from daemon: " + err.Error()
		}
		resp, err := hc.Do(req)
		if err != nil {
			return r.registryLine(err)
		}
		resp.Body.Close()
		return ""
	}
	opts := []client.Opt{client.WithHost("tcp://" + r.Target.Addr()), client.WithHTTPClient(hc), client.WithTimeout(o.Timeout), noTracing}
	if !r.client.TLS {
		opts = append(opts, client.WithScheme("http"))
	}
	cli, err := client.New(o.clientOpts(opts...)...)
	if err != nil {
		return err.Error()
	}
	defer cli.Close()
	if _, err := cli.ServerVersion(ctx, client.ServerVersionOptions{}); err != nil {
		return err.Error()
	}
	return ""
}

// plainRegistry asks an insecure registry that answered TLS with plain
// HTTP for /v2/ over plain HTTP, as dockerd's fallback endpoint does.
func (r *Result) plainRegistry(ctx context.Context, o Options) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	hc := &http.Client{Timeout: o.Timeout, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Target.HostPort()+"/v2/", nil)
	if err != nil {
		return
	}
	resp, err := hc.Do(req)
	if err != nil {
		r.Outcome, r.Stage, r.Err = "", "", ""
		r.fail(StageHTTP, OutcomeHTTPError, err)
		r.DockerError = "Error response from daemon: " + err.Error()
		return
	}
	resp.Body.Close()
	r.Evidence.HTTPStatus = resp.StatusCode
	r.Evidence.RegistryAPI = resp.Header.Get("Docker-Distribution-Api-Version")
	r.Outcome, r.Stage, r.Err = "", "", ""
	if r.Evidence.RegistryAPI == "" {
		r.fail(StageHTTP, OutcomeNotRegistry, fmt.Errorf("GET /v2/ answered %s without a Docker-Distribution-Api-Version header: not a registry", resp.Status))
		return
	}
	r.Outcome = OutcomeOKPlain
}

// registryLine is what docker pull prints when dockerd's request to the
// registry fails with err (a *url.Error from GET /v2/), and it sets docker
// push's line. moby's classic store pings /v2/ first, for both. With the
// containerd image store, containerd's resolver (core/remotes/docker)
// pings nothing: a pull starts by resolving the tag (HEAD on its
// manifest; moby wraps the error as "failed to resolve reference"), a push
// with HEAD on its first layer's blob, and the resolver wraps the
// transport's error as "failed to do request: " (the repository, tag and
// digest are the user's image's: placeholders).
func (r *Result) registryLine(err error) string {
	var ue *url.Error
	if r.client.ContainerdStore && errors.As(err, &ue) {
		base := "https://" + r.Target.HostPort() + "/v2/" + RepoPlaceholder
		r.DockerPushError = "failed to do request: " + (&url.Error{Op: "Head", URL: base + "/blobs/sha256:" + DigestPlaceholder, Err: ue.Err}).Error()
		return fmt.Sprintf("%sfailed to resolve reference %q: failed to do request: %s", dockerdPrefix, r.Target.HostPort()+"/"+RepoPlaceholder+":"+TagPlaceholder,
			(&url.Error{Op: "Head", URL: base + "/manifests/" + TagPlaceholder, Err: ue.Err}).Error())
	}
	return dockerdPrefix + err.Error()
}

// RepoPlaceholder, TagPlaceholder and DigestPlaceholder stand in a
// containerd-store line for the repository, tag and layer digest of the
// image pulled or pushed, which a probe of the registry cannot know.
const (
	RepoPlaceholder   = "REPOSITORY"
	TagPlaceholder    = "TAG"
	DigestPlaceholder = "DIGEST"
)

// pinnedLine is docker's line for a request that failed before the
// client could negotiate, with the installed CLI's API version in the URL:
// the request is made again with that version pinned. fallback is kept
// when no version is known or the pinned request does not fail.
func (r *Result) pinnedLine(ctx context.Context, o Options, hc *http.Client, plain bool, fallback string) string {
	if o.apiVersion() == "" {
		return fallback
	}
	opts := o.clientOpts(client.WithHost("tcp://"+r.Target.Addr()), client.WithHTTPClient(hc), client.WithTimeout(o.Timeout), noTracing)
	if plain {
		opts = append(opts, client.WithScheme("http"))
	}
	cli, err := client.New(opts...)
	if err != nil {
		return fallback
	}
	defer cli.Close()
	if _, err := cli.ServerVersion(ctx, client.ServerVersionOptions{}); err != nil {
		return err.Error()
	}
	return fallback
}

// plainHTTP sends the plain-HTTP request a non-TLS docker client sends and
// returns what docker would print.
func (r *Result) plainHTTP(ctx context.Context, o Options, conn net.Conn) (string, int) {
	if r.Target.Role == RoleRegistry {
		conn.Close()
		return "", 0
	}
	status := 0
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	hc := r.httpClient(o, nil, func(context.Context) (net.Conn, error) { return conn, nil })
	defer hc.CloseIdleConnections()
	cli, err := client.New(client.WithHost("tcp://"+r.Target.Addr()), client.WithHTTPClient(hc), client.WithScheme("http"), noTracing,
		client.WithHTTPResponseHook(func(resp *http.Response) { status = resp.StatusCode }))
	if err != nil {
		return err.Error(), 0
	}
	defer cli.Close()
	v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		if status == 0 {
			// No HTTP answer: docker never negotiated either.
			return r.pinnedLine(ctx, o, hc, true, err.Error()), status
		}
		return err.Error(), status
	}
	r.Evidence.ServerVersion = v.Version
	return "", status
}

// lostVerdict reports whether err looks like a server that rejected the
// client certificate and closed before its alert could be read.
func lostVerdict(r *Result, err error) bool {
	if !r.Evidence.CertRequested || r.Evidence.TLSVersion != "TLS 1.3" {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "connection reset by peer") || strings.Contains(s, "broken pipe") || strings.HasSuffix(s, ": EOF")
}

// noTracing keeps the moby client from tracing the probe's requests: the
// docker CLI's plugin framework installs a global tracer provider, and a
// span per request is pure cost here.
var noTracing = client.WithTraceProvider(noop.NewTracerProvider())
