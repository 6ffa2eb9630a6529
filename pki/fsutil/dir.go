package fsutil

import (
	"errors"
	"io/fs"
	"path"
	"strings"
)

// Dir is a directory held open by its descriptor, whose entries are
// listed once (names and types from the same read) and whose regular
// files are opened relative to it: a scan of thousands of small
// directories then costs one open, one listing and, per file, one open,
// one fstat and the reads, with no path walked twice and no file looked
// at before it is opened. It exists on Linux; elsewhere NewDir and OpenDir
// return ErrNoDir and callers take their portable path.
//
// A Dir is safe for concurrent use until Close.
type Dir struct{ dir }

// ErrNoDir is returned where Dir is not available (not Linux).
var ErrNoDir = errors.New("fsutil.Dir: not available on this system")

// TypeUnknown is the type of an entry whose type the listing does not
// give (the file system does not say, or the name is not listed): callers
// look for themselves. Other types are fs.FileMode type bits (0 for a
// regular file).
const TypeUnknown = ^fs.FileMode(0)

// errFallback is what readers get when the fast path does not apply: the
// caller looks at the file its portable way, which says why.
var errFallback = errors.New("fsutil.Dir: not a plain regular file")

// IsFallback reports whether err only means the fast path did not apply
// (the entry is not listed as a regular file, is a symbolic link, a
// special file, too large, or could not be opened or read): the caller
// reads the file its portable way, which reports why.
func IsFallback(err error) bool { return errors.Is(err, errFallback) || errors.Is(err, ErrNoDir) }

// fileMode is os's FileMode for a stat mode of a regular file or
// directory (permission, setuid, setgid and sticky bits).
func fileMode(m uint32, dir bool) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if dir {
		mode |= fs.ModeDir
	}
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// Join is path.Join(dir, name) for a name that is one path component:
// when dir is clean and name a plain name it is dir + "/" + name, one
// allocation and no cleaning (a scan joins thousands of them).
func Join(dir, name string) string {
	if dir == "" || dir == "/" || dir == "." || name == "" || name == "." || name == ".." ||
		strings.IndexByte(name, '/') >= 0 || path.Clean(dir) != dir {
		return path.Join(dir, name)
	}
	return dir + "/" + name
}
