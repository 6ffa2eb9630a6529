// Package regerr words a registry's error answers as dockerd's registry client
// does (docker/distribution's registry/client, vendored by moby).
package regerr

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/docker-tls/docker-tls/pki/regerr/internal/errcode"
)

// Text is the error dockerd's registry client makes of a
// registry's answer that is not a success: docker/distribution v2.8.3
// registry/client HandleErrorResponse as moby 28.5 vendors it (legacy:
// the copy in moby 20.10, which parses every body as JSON whatever its
// Content-Type). A 4xx body is the registry's JSON error list
// ({"errors":[{"code":"UNAUTHORIZED","message":…}]}: "unauthorized: …"),
// an old-style {"details":…}, or text worded by status. ok is false for
// what is not modelled: a Bearer challenge carrying an OAuth error
// (error=invalid_token / insufficient_scope), which the client merges in
// first.
func Text(status int, statusLine string, h http.Header, body []byte, legacy bool) (string, bool) {
	if status < 400 || status >= 500 {
		return "received unexpected HTTP status: " + statusLine, true
	}
	for _, v := range h.Values("Www-Authenticate") {
		if l := strings.ToLower(v); strings.HasPrefix(strings.TrimSpace(l), "bearer") && strings.Contains(l, "error=") {
			return "", false
		}
	}
	text, unexpected := parseRegistryError(status, h.Get("Content-Type"), body, legacy)
	if unexpected && status == http.StatusUnauthorized {
		// ErrorCodeUnauthorized.WithDetail(body): the code's own message.
		return errcode.Unauthorized.Text() + ": " + errcode.Unauthorized.Message(), true
	}
	return text, true
}

// parseRegistryError is parseHTTPErrorResponse; unexpected reports an
// UnexpectedHTTPResponseError.
func parseRegistryError(status int, ct string, body []byte, legacy bool) (string, bool) {
	if !legacy {
		if ct == "" {
			return byStatus(status, string(body)), false
		}
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return "failed parsing content-type: " + err.Error(), false
		}
		if mt != "application/json" && mt != "application/vnd.api+json" {
			return byStatus(status, string(body)), false
		}
	}
	var details struct {
		Details string `json:"details"`
	}
	if err := json.Unmarshal(body, &details); err == nil && details.Details != "" {
		return byStatus(status, details.Details), false
	}
	var list struct {
		Errors []errcode.Error
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Sprintf("error parsing HTTP %d response body: %s: %q", status, err.Error(), string(body)), true
	}
	if len(list.Errors) == 0 {
		return fmt.Sprintf("error parsing HTTP %d response body: %s: %q", status, "no error details found in HTTP response body", string(body)), true
	}
	var texts []string
	for _, e := range list.Errors {
		// Errors.UnmarshalJSON keeps a bare code when there is no detail
		// and the message is empty or the code's own.
		if e.Detail == nil && (e.Message == "" || e.Message == e.Code.Message()) {
			texts = append(texts, e.Code.Text())
		} else {
			texts = append(texts, e.Code.Text()+": "+e.Message)
		}
	}
	if len(texts) == 1 {
		return texts[0], false
	}
	return "errors:\n" + strings.Join(texts, "\n") + "\n", false
}

// byStatus is makeError: the text as the message of a code chosen by
// the status.
func byStatus(status int, msg string) string {
	code := errcode.Unknown
	switch status {
	case http.StatusUnauthorized:
		code = errcode.Unauthorized
	case http.StatusForbidden:
		code = errcode.Denied
	case http.StatusTooManyRequests:
		code = errcode.TooManyRequests
	}
	return code.Text() + ": " + msg
}
