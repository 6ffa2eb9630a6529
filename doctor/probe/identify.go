package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Identity is what an endpoint turned out to be when asked.
type Identity struct {
	// Role is the kind of endpoint; "" when it is not a Docker endpoint
	// (or could not be asked).
	Role Role
	// TLS: the endpoint completed a TLS handshake (or rejected ours with a
	// TLS alert).
	TLS bool
	// NeedsClientCert: a TLS endpoint that refused to answer without a
	// client certificate.
	NeedsClientCert bool
	// Answer says what answered, in words ("/_ping answered with
	// Api-Version 1.41", "HTTP 404 from nginx/1.25 to /_ping and /v2/").
	Answer string
	// Unreached: the connection failed (nothing listens, no route, a
	// timeout), so nothing could be asked: the kind is unknown, not
	// "not a Docker endpoint".
	Unreached bool
	// ALPN is the protocol the endpoint picked in the handshake ("h2",
	// "http/1.1", "" for none).
	ALPN string
}

// Identify asks host:port what it is, as the doctor's intake does when the
// target's kind is not known: GET /_ping answered with an Api-Version
// header is a daemon, GET /v2/ answered with Docker-Distribution-Api-Version
// a registry, anything else is not a Docker endpoint. It speaks TLS
// (without verifying, without a client certificate) when the endpoint
// does, plain HTTP otherwise. A TLS endpoint that demands a client
// certificate before answering cannot be asked: Role is "" and Answer says
// so.
func Identify(ctx context.Context, host string, port int, o Options) Identity {
	o.defaults()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	if o.Progress != nil {
		o.Progress(addr, "identify")
		defer o.Progress(addr, "")
	}
	d := &net.Dialer{Timeout: o.Timeout}
	ctx, cancel := context.WithTimeout(ctx, 3*o.Timeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Identity{Unreached: true, Answer: "nothing answered: " + err.Error()}
	}
	conn.SetDeadline(time.Now().Add(o.Timeout))
	// ALPN is offered as any HTTP client offers it: the protocol the
	// server picks is read from the handshake even when the server then
	// rejects the absent client certificate.
	alpn := ""
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: host, NextProtos: []string{"h2", "http/1.1"},
		VerifyConnection: func(cs tls.ConnectionState) error {
			alpn = cs.NegotiatedProtocol
			return nil
		}})
	herr := tc.Handshake()
	conn.Close()
	id := Identity{}
	// clientCertRole decides the kind of an endpoint that will not answer
	// without a client certificate. dockerd serves its API through
	// go-connections' sockets.NewTCPSocket, which pins NextProtos to
	// http/1.1 (the API hijacks connections for attach and exec: never
	// HTTP/2); the distribution registry (2.7+) offers h2 and http/1.1.
	// An endpoint that picks h2 is therefore not dockerd: for a bare
	// host:port, a registry. http/1.1 or none says nothing (a registry
	// behind a proxy without HTTP/2 picks http/1.1 as well).
	clientCertRole := func(answer string) Identity {
		id.TLS, id.NeedsClientCert, id.ALPN = true, true, alpn
		id.Answer = answer
		if alpn == "h2" {
			id.Role = RoleRegistry
			id.Answer += "; it negotiated HTTP/2 (ALPN h2), which dockerd's API never does: a registry"
		}
		return id
	}
	scheme := "http"
	var rh tls.RecordHeaderError
	switch {
	case herr == nil:
		id.TLS, scheme = true, "https"
	case errors.As(herr, &rh):
		// Not TLS: ask over plain HTTP.
	case isAlert(herr):
		a := alertText(herr)
		if a == "certificate required" || a == "bad certificate" || a == "handshake failure" {
			return clientCertRole("a TLS endpoint that refused the handshake (" + herr.Error() + ")")
		}
		id.TLS = true
		id.Answer = "a TLS endpoint that refused the handshake (" + herr.Error() + ")"
		return id
	default:
		id.Answer = "the endpoint answered neither TLS nor HTTP: " + herr.Error()
		return id
	}
	role, answer, alert := askKind(ctx, &tls.Config{InsecureSkipVerify: true, ServerName: host}, scheme, addr, o)
	if alert != "" {
		// TLS 1.3: the server judges the (absent) client certificate
		// after the handshake.
		return clientCertRole("a TLS endpoint that demands a client certificate (remote error: tls: " + alert + ")")
	}
	id.Role, id.Answer = role, answer
	return id
}

// askKind asks GET /_ping (a daemon answers with Api-Version) and GET /v2/
// (a registry answers with Docker-Distribution-Api-Version) at
// scheme://addr; alert is the TLS alert that stopped the asking.
func askKind(ctx context.Context, tc *tls.Config, scheme, addr string, o Options) (role Role, answer, alert string) {
	hc := &http.Client{
		Timeout: o.Timeout,
		Transport: &http.Transport{
			TLSClientConfig:   tc,
			DisableKeepAlives: true,
			Proxy:             nil,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer hc.CloseIdleConnections()
	var seen []string
	for _, p := range []string{"/_ping", "/v2/"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+p, nil)
		if err != nil {
			return "", err.Error(), ""
		}
		resp, err := hc.Do(req)
		if err != nil {
			if a := alertText(err); a != "" {
				return "", "", a
			}
			seen = append(seen, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		resp.Body.Close()
		if v := resp.Header.Get("Api-Version"); p == "/_ping" && v != "" {
			return RoleDaemon, fmt.Sprintf("%s://%s/_ping answered with Api-Version %s", scheme, addr, v), ""
		}
		if v := resp.Header.Get("Docker-Distribution-Api-Version"); p == "/v2/" && v != "" {
			return RoleRegistry, fmt.Sprintf("%s://%s/v2/ answered with Docker-Distribution-Api-Version %s", scheme, addr, v), ""
		}
		what := resp.Status
		if s := resp.Header.Get("Server"); s != "" {
			what += " from " + s
		}
		seen = append(seen, p+": "+what)
	}
	return "", fmt.Sprintf("%s://%s answered %s", scheme, addr, strings.Join(seen, "; ")), ""
}

// IdentifyWith asks a TLS endpoint that demands a client certificate what
// it is, presenting the client certificate of c (a setup the user has):
// GET /_ping and /v2/ over connections that complete the handshake. The
// server's certificate is not verified (only the kind is asked; the
// setup's probe judges the certificate). Role is "" when the endpoint
// still refuses (Answer says how) or answers neither.
func IdentifyWith(ctx context.Context, host string, port int, c Client, o Options) Identity {
	o.defaults()
	if !c.TLS || len(c.Pairs) == 0 {
		return Identity{Answer: "the setup has no client certificate"}
	}
	cfg, _, err := c.config(RoleDaemon)
	if err != nil {
		return Identity{Answer: err.Error()}
	}
	cfg = cfg.Clone()
	cfg.InsecureSkipVerify, cfg.RootCAs, cfg.ServerName = true, nil, host
	cfg.VerifyPeerCertificate, cfg.VerifyConnection = nil, nil
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(ctx, 3*o.Timeout)
	defer cancel()
	role, answer, alert := askKind(ctx, cfg, "https", addr, o)
	id := Identity{Role: role, Answer: answer, TLS: true, NeedsClientCert: true}
	if alert != "" {
		id.Answer = "it refused that client certificate too (remote error: tls: " + alert + ")"
	}
	return id
}
