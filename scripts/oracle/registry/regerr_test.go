package registry

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/docker-tls/docker-tls/pki/regerr"
	distclient "github.com/docker/distribution/registry/client"
)

// regerrCases are registry answers as registries send them: distribution's
// JSON error lists (bare codes, messages equal to the code's own, details,
// unknown codes, several errors), old {"details":…} bodies, text and HTML
// bodies, malformed JSON and Content-Types, and statuses outside 4xx.
var regerrCases = []struct {
	status int
	ct     string
	auth   string
	body   string
}{
	{401, "application/json; charset=utf-8", `Basic realm="r"`, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}` + "\n"},
	{401, "application/json", `Bearer realm="https://auth/token",service="r"`, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Name":"x","Action":"pull"}]}]}`},
	{401, "application/json", "", `{"errors":[{"code":"UNAUTHORIZED","message":"access to the requested resource is not authorized"}]}`},
	{403, "application/json", "", `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`},
	{404, "application/json", "", `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"latest"}}]}`},
	{404, "application/json", "", `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`},
	{400, "application/json", "", `{"errors":[{"code":"SOMETHING_NEW","message":"a code dockerd does not know"}]}`},
	{400, "application/json", "", `{"errors":[{"code":"BLOB_UNKNOWN"},{"code":"DIGEST_INVALID","message":"bad digest"}]}`},
	{400, "application/json", "", `{"errors":[]}`},
	{401, "application/json", "", `{"errors":[]}`},
	{400, "application/json", "", `{"errors":[{"code":7}]}`},
	{401, "application/json", "", `not json`},
	{400, "application/json", "", `not json`},
	{401, "application/vnd.api+json", "", `{"details":"incorrect username or password"}`},
	{429, "application/json", "", `{"details":"slow down"}`},
	{400, "text/plain; charset=utf-8", "", "Client sent an HTTP request to an HTTPS server.\n"},
	{401, "", "", "no content type"},
	{403, "text/html", "", "<html>Forbidden</html>"},
	{400, "text/plain; ===", "", "x"},
	{499, "application/json", "", `{"details":""}`},
	{500, "application/json", "", `{"errors":[{"code":"UNKNOWN"}]}`},
	{502, "text/html", "", "<html>bad gateway</html>"},
	{401, "application/json", `Bearer realm="https://auth/token",error="invalid_token"`, `{}`},
}

// TestRegistryErrorText: docker/distribution v2.8.3's HandleErrorResponse
// (the registry client moby 28.5 vendors) against pki/regerr, case by
// case; a Bearer challenge with an OAuth error is outside the model and
// must say so.
func TestRegistryErrorText(t *testing.T) {
	for _, c := range regerrCases {
		h := http.Header{}
		if c.ct != "" {
			h.Set("Content-Type", c.ct)
		}
		if c.auth != "" {
			h.Set("Www-Authenticate", c.auth)
		}
		resp := &http.Response{StatusCode: c.status, Status: http.StatusText(c.status), Header: h, Body: io.NopCloser(bytes.NewReader([]byte(c.body)))}
		if resp.Status == "" {
			resp.Status = "499"
		} else {
			resp.Status = http.StatusText(c.status)
			resp.Status = itoa(c.status) + " " + resp.Status
		}
		want := distclient.HandleErrorResponse(resp).Error()
		got, ok := regerr.Text(c.status, resp.Status, h, []byte(c.body), false)
		if !ok {
			if c.auth == "" || !bytes.Contains([]byte(c.auth), []byte("error=")) {
				t.Errorf("%d %q %q: not modelled", c.status, c.ct, c.body)
			}
			continue
		}
		if got != want {
			t.Errorf("%d %q %q %q:\n model %q\n  dist %q", c.status, c.ct, c.auth, c.body, got, want)
		}
	}
}

func FuzzRegistryErrorText(f *testing.F) {
	for _, c := range regerrCases {
		f.Add(c.status, c.ct, c.body)
	}
	f.Fuzz(func(t *testing.T, status int, ct, body string) {
		if status < 100 || status > 599 {
			return
		}
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		st := itoa(status) + " " + http.StatusText(status)
		resp := &http.Response{StatusCode: status, Status: st, Header: h, Body: io.NopCloser(bytes.NewReader([]byte(body)))}
		want := distclient.HandleErrorResponse(resp).Error()
		got, ok := regerr.Text(status, st, h, []byte(body), false)
		if ok && got != want {
			t.Errorf("%d %q %q:\n model %q\n  dist %q", status, ct, body, got, want)
		}
	})
}

func itoa(n int) string {
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
