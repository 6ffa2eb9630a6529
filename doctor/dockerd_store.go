package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/docker-tls/docker-tls/pki/loader"
)

// DaemonFacts asks the daemon the docker CLI talks to (the active endpoint,
// with the client material the CLI loads) for its version and image store:
// /info's ServerVersion and DriverStatus "driver-type". ok is false when
// the endpoint does not answer in time (or the client cannot be built): the
// caller then keeps what daemon.json, dockerd's flags and its version say.
func DaemonFacts(ctx context.Context, opts Options, timeout time.Duration) (loader.DockerdFacts, bool) {
	if err := opts.normalise(); err != nil {
		return loader.DockerdFacts{}, false
	}
	ep := opts.resolveCLI(opts.Flags)
	if ep.Err != nil || ep.Host == "" || strings.HasPrefix(ep.Host, "ssh://") {
		return loader.DockerdFacts{}, false
	}
	copts := []client.Opt{client.WithHost(ep.Host), client.WithTimeout(timeout), client.WithAPIVersionNegotiation(), noTracingOpt}
	if ep.TLS {
		cfg := &tls.Config{InsecureSkipVerify: ep.SkipTLSVerify}
		if len(ep.CA) > 0 {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(ep.CA)
			cfg.RootCAs = pool
		}
		if ep.ClientCert() {
			pair, err := tls.X509KeyPair(ep.Cert, ep.Key)
			if err != nil {
				return loader.DockerdFacts{}, false
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		tr := &http.Transport{TLSClientConfig: cfg}
		copts = append(copts, client.WithHTTPClient(&http.Client{Transport: tr, Timeout: timeout}), client.WithScheme("https"))
	}
	cli, err := client.New(copts...)
	if err != nil {
		return loader.DockerdFacts{}, false
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return loader.DockerdFacts{}, false
	}
	return factsFromInfo(res.Info.ServerVersion, res.Info.Driver, res.Info.DriverStatus), true
}

// factsFromInfo reads /info's answer: the image store is the containerd
// one when DriverStatus carries driver-type io.containerd.snapshotter.v1
// (moby daemon/info.go fillDriverInfo).
func factsFromInfo(version, driver string, status [][2]string) loader.DockerdFacts {
	f := loader.DockerdFacts{InfoKnown: true, Version: version, Driver: driver}
	f.Major = MajorVersion(version)
	for _, kv := range status {
		if kv[0] == "driver-type" {
			f.DriverType = kv[1]
		}
	}
	return f
}

// MajorVersion is the major number of a Docker version ("28.5.2",
// "20.10.24+dfsg1", "v29.0.0"); 0 when it is not a version.
func MajorVersion(v string) int {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	maj, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(maj)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// liveSelection is the rules dockerd applies to a registry for the live
// probe: the same choice as the static certs.d checks (the daemon's /info
// when the caller asked it, daemon.json's features and dockerd's flags,
// the version).
func liveSelection(opts Options) loader.Selection {
	r := &runner{o: &opts}
	d := r.inspectDaemon()
	return dockerdSelection(&opts, d)
}

var noTracingOpt = client.WithTraceProvider(noop.NewTracerProvider())
