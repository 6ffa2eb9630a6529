package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"sort"
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
	copts := []client.Opt{client.WithHost(ep.Host), client.WithTimeout(timeout), noTracingOpt} // API-version negotiation is the client's default
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
	f := factsFromInfo(res.Info.ServerVersion, res.Info.Driver, res.Info.DriverStatus)
	if rc := res.Info.RegistryConfig; rc != nil {
		reg := &loader.DockerdRegistryConfig{Major: f.Major, FromInfo: true, Mirrors: rc.Mirrors}
		for _, p := range rc.InsecureRegistryCIDRs {
			reg.Insecure = append(reg.Insecure, p.String())
		}
		for name, ic := range rc.IndexConfigs {
			if ic != nil && !ic.Secure {
				reg.Insecure = append(reg.Insecure, name)
			}
		}
		sort.Strings(reg.Insecure)
		f.Registry = reg
	}
	return f, true
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
func liveSelection(opts Options) (loader.Selection, *daemonInfo) {
	r := &runner{o: &opts}
	d := r.inspectDaemon()
	return dockerdSelection(&opts, d), d
}

// registryConfig is dockerd's registry configuration: the running
// daemon's (/info) when it answered, else daemon.json's
// "insecure-registries" and "registry-mirrors" with the --insecure-registry
// and --registry-mirror flags of its unit. explicit says whether the user
// configured any (dockerd with the containerd image store applies its own
// insecure rules only then: moby daemon/hosts.go RegistryHosts).
func registryConfig(opts *Options, d *daemonInfo) (cfg loader.DockerdRegistryConfig, explicit bool) {
	if rc := opts.Dockerd.Registry; rc != nil {
		cfg = *rc
		defaults := loader.DefaultInsecureCIDRs(cfg.Major)
		for _, e := range cfg.Insecure {
			if !containsStr(defaults, e) {
				explicit = true
			}
		}
		return cfg, explicit || len(cfg.Mirrors) > 0
	}
	cfg.Major = opts.Dockerd.Major
	if d != nil {
		for key, dst := range map[string]*[]string{"insecure-registries": &cfg.Insecure, "registry-mirrors": &cfg.Mirrors} {
			if raw, ok := d.jsonKeys[key]; ok {
				var l []string
				if json.Unmarshal(raw, &l) == nil {
					*dst = append(*dst, l...)
				}
			}
		}
		cfg.Insecure = append(cfg.Insecure, d.flagVals["insecure-registry"]...)
		cfg.Mirrors = append(cfg.Mirrors, d.flagVals["registry-mirror"]...)
	}
	return cfg, len(cfg.Insecure) > 0 || len(cfg.Mirrors) > 0
}

// registryInsecurity is dockerd's answer for t with the rules sel picked.
func registryInsecurity(opts *Options, d *daemonInfo, sel loader.Selection, indexName string) loader.Insecurity {
	cfg, explicit := registryConfig(opts, d)
	lookup := net.LookupIP
	if opts.Root != "" && opts.Root != "/" {
		lookup = nil // another machine's names
	}
	if sel.Rules == loader.RulesContainerd {
		return loader.ContainerdStoreInsecure(cfg, indexName, explicit, lookup)
	}
	return loader.MobyInsecure(cfg, indexName, lookup)
}

var noTracingOpt = client.WithTraceProvider(noop.NewTracerProvider())
