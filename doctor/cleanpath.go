package doctor

import (
	"path"
	"strings"
)

// The certs.d scan cleans and splits the same few paths many times per
// registry directory; these are path.Clean and path.Dir with a fast way
// for the paths it meets, which are clean already.

// isClean reports whether path.Clean(p) == p; it may answer false for
// some clean paths (those with ".." elements), never true for others.
func isClean(p string) bool {
	if p == "" {
		return false
	}
	if p == "/" || p == "." {
		return true
	}
	i := 0
	if p[0] == '/' {
		i = 1
	}
	for i <= len(p) {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p) - i
		}
		if el := p[i : i+j]; el == "" || el == "." || el == ".." {
			return false
		}
		i += j + 1
	}
	return true
}

// cleanPath is path.Clean(p).
func cleanPath(p string) string {
	if isClean(p) {
		return p
	}
	return path.Clean(p)
}

// dirOf is path.Dir(p).
func dirOf(p string) string {
	if len(p) > 1 && p[0] == '/' && isClean(p) {
		i := strings.LastIndexByte(p, '/')
		if i == 0 {
			return "/"
		}
		return p[:i]
	}
	return path.Dir(p)
}
