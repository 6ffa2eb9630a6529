package regerr

import (
	"net/http"
	"testing"
)

// The wording is proven against docker/distribution v2.8.3 itself in
// scripts/oracle/registry (TestRegistryErrorText, FuzzRegistryErrorText);
// these are the cases the doctor meets most.
func TestText(t *testing.T) {
	for _, c := range []struct {
		status      int
		ct, auth    string
		body        string
		legacy      bool
		want        string
		notModelled bool
	}{
		{401, "application/json; charset=utf-8", `Basic realm="e2e"`, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}`, false, "unauthorized", false},
		{401, "application/json", "", `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository"}]}]}`, false, "unauthorized: authentication required", false},
		{404, "application/json", "", `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"x"}}]}`, false, "name unknown: repository name not known to registry", false},
		{400, "application/json", "", `{"errors":[{"code":"NEW_CODE","message":"m"},{"code":"DENIED"}]}`, false, "errors:\nunknown: m\ndenied\n", false},
		{401, "application/json", "", `{"errors":[]}`, false, "unauthorized: authentication required", false},
		{400, "application/json", "", `{"errors":[{"code":1}]}`, false, `error parsing HTTP 400 response body: json: cannot unmarshal number into Go struct field Error.Errors.code of type errcode.ErrorCode: "{\"errors\":[{\"code\":1}]}"`, false},
		{403, "text/html", "", "<p>no</p>", false, "denied: <p>no</p>", false},
		{403, "text/html", "", "<p>no</p>", true, `error parsing HTTP 403 response body: invalid character '<' looking for beginning of value: "<p>no</p>"`, false},
		{503, "text/html", "", "x", false, "received unexpected HTTP status: 503 Service Unavailable", false},
		{401, "application/json", `Bearer realm="r",error="invalid_token"`, `{}`, false, "", true},
	} {
		h := http.Header{}
		if c.ct != "" {
			h.Set("Content-Type", c.ct)
		}
		if c.auth != "" {
			h.Set("Www-Authenticate", c.auth)
		}
		got, ok := Text(c.status, itoa(c.status)+" "+http.StatusText(c.status), h, []byte(c.body), c.legacy)
		if ok == c.notModelled || got != c.want {
			t.Errorf("%d %s %q legacy=%v: %q (modelled %v), want %q", c.status, c.ct, c.body, c.legacy, got, ok, c.want)
		}
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
