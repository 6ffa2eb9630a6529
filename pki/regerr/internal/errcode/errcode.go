// Package errcode mirrors the JSON shape of docker/distribution v2.8.3's
// registry/api/errcode (the copy moby 28.5 vendors) so that
// encoding/json's errors name the same Go types as dockerd's do
// ("… into Go struct field Error.Errors.code of type errcode.ErrorCode"):
// the package and type names are part of the text docker prints.
package errcode

import "strings"

// ErrorCode is an error code as the registry's JSON names it.
type ErrorCode int

// descriptor is one registered code: errcode's own and registry/api/v2's,
// the only ones a dockerd binary registers.
type descriptor struct{ value, message string }

var descriptors = []descriptor{
	{"UNKNOWN", "unknown error"},
	{"UNSUPPORTED", "The operation is unsupported."},
	{"UNAUTHORIZED", "authentication required"},
	{"DENIED", "requested access to the resource is denied"},
	{"UNAVAILABLE", "service unavailable"},
	{"TOOMANYREQUESTS", "too many requests"},
	{"DIGEST_INVALID", "provided digest did not match uploaded content"},
	{"SIZE_INVALID", "provided length did not match content length"},
	{"NAME_INVALID", "invalid repository name"},
	{"TAG_INVALID", "manifest tag did not match URI"},
	{"NAME_UNKNOWN", "repository name not known to registry"},
	{"MANIFEST_UNKNOWN", "manifest unknown"},
	{"MANIFEST_INVALID", "manifest invalid"},
	{"MANIFEST_UNVERIFIED", "manifest failed signature verification"},
	{"MANIFEST_BLOB_UNKNOWN", "blob unknown to registry"},
	{"BLOB_UNKNOWN", "blob unknown to registry"},
	{"BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry"},
	{"BLOB_UPLOAD_INVALID", "blob upload invalid"},
	{"PAGINATION_NUMBER_INVALID", "invalid number of results requested"},
}

// Codes the client itself uses.
const (
	Unknown         ErrorCode = 0
	Unauthorized    ErrorCode = 2
	Denied          ErrorCode = 3
	TooManyRequests ErrorCode = 5
)

// UnmarshalText is errcode's: an unregistered code is UNKNOWN.
func (ec *ErrorCode) UnmarshalText(text []byte) error {
	for i, d := range descriptors {
		if d.value == string(text) {
			*ec = ErrorCode(i)
			return nil
		}
	}
	*ec = Unknown
	return nil
}

// Message is the code's default message.
func (ec ErrorCode) Message() string { return descriptors[ec].message }

// Text is ErrorCode.Error(): the value in lower case, '_' as spaces.
func (ec ErrorCode) Text() string {
	return strings.ToLower(strings.ReplaceAll(descriptors[ec].value, "_", " "))
}

// Error is one entry of the registry's "errors" list.
type Error struct {
	Code    ErrorCode   `json:"code"`
	Message string      `json:"message"`
	Detail  interface{} `json:"detail,omitempty"`
}
