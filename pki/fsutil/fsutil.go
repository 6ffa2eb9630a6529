// Package fsutil writes files the way docker-tls promises: atomically (temp
// file plus rename in the same directory), with the final mode from the
// first byte, never through a symbolic link, never over different content
// without force, and keeping a backup of what it replaces.
package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Outcome says what a write did.
type Outcome string

const (
	Created   Outcome = "created"
	Unchanged Outcome = "unchanged"
	Replaced  Outcome = "replaced"
)

// Result of one write.
type Result struct {
	Path    string
	Outcome Outcome
	// Backup is where the old content was kept (Replaced only).
	Backup string
}

// ErrExists is wrapped by WriteFile when a different file is in the way.
var ErrExists = errors.New("file exists with different content")

const tmpMarker = ".docker-tls-tmp-"

// Now is the clock used for backup names (tests pin it).
var Now = time.Now

// testHookTempOpened, when set (tests), is called with each temp file right
// after it is created, before anything is written to it.
var testHookTempOpened func(*os.File)

// EnsureDir creates dir (and parents) with perm when missing. It refuses a
// dir that is a symbolic link or not a directory.
func EnsureDir(dir string, perm fs.FileMode) error {
	fi, err := os.Lstat(dir)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(dir)
		return fmt.Errorf("refusing to use %s: it is a symbolic link to %s, expected a directory (remove the link or choose another path)", dir, target)
	case err == nil && !fi.IsDir():
		return fmt.Errorf("cannot use %s: it is a %s, expected a directory", dir, DescribeMode(fi.Mode()))
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot use directory %s: %w", dir, err)
	}
	if err := EnsureDir(filepath.Dir(dir), perm|0o100); err != nil && filepath.Dir(dir) != dir {
		return err
	}
	if err := mkdir(dir, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating directory %s: %w", dir, err)
	}
	return nil
}

// DescribeMode names a file type for messages: "regular file",
// "directory", "symbolic link", "FIFO", "character device", "device",
// "socket".
func DescribeMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// WriteFile writes data to path atomically with mode perm. Identical
// existing content is left alone (Unchanged). Different content is an
// ErrExists error unless force is set, in which case the old file is kept
// as path.bak-YYYYMMDDTHHMMSS and replaced.
func WriteFile(path string, data []byte, perm fs.FileMode, force bool) (Result, error) {
	res := Result{Path: path}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := EnsureDir(filepath.Clean(dir), 0o700); err != nil {
		return res, err
	}
	cleanStaleTemps(dir, base)
	fi, err := os.Lstat(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("cannot write %s: %w", path, err)
	}
	if exists {
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(path)
			return res, fmt.Errorf("refusing to write %s: it is a symbolic link to %s, expected a regular file (remove the link first)", path, target)
		}
		if !fi.Mode().IsRegular() {
			return res, fmt.Errorf("refusing to write %s: it is a %s, expected a regular file", path, DescribeMode(fi.Mode()))
		}
		old, err := readNoFollow(path, fi.Size())
		if err != nil {
			return res, err
		}
		if bytes.Equal(old, data) {
			res.Outcome = Unchanged
			if err := setMode(path, fi, perm); err != nil {
				return res, fmt.Errorf("setting mode of %s: %w", path, err)
			}
			return res, nil
		}
		if !force {
			return res, fmt.Errorf("%s already exists with different content: %w; use --force to replace it (the old file is kept as a backup)", path, ErrExists)
		}
	}
	tmp, err := writeTemp(dir, base, data, perm)
	if err != nil {
		return res, fmt.Errorf("writing %s: %w", path, err)
	}
	if exists {
		keepOwner(tmp, fi)
		backup := path + ".bak-" + Now().UTC().Format("20060102T150405")
		for i := 1; ; i++ {
			if _, err := os.Lstat(backup); errors.Is(err, fs.ErrNotExist) {
				break
			}
			backup = fmt.Sprintf("%s.bak-%s-%d", path, Now().UTC().Format("20060102T150405"), i)
		}
		if err := os.Link(path, backup); err != nil {
			os.Remove(tmp)
			return res, fmt.Errorf("keeping a backup of %s as %s: %w", path, backup, err)
		}
		res.Backup = backup
		res.Outcome = Replaced
	} else {
		res.Outcome = Created
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return res, fmt.Errorf("writing %s: %w", path, err)
	}
	syncDir(dir)
	return res, nil
}

func writeTemp(dir, base string, data []byte, perm fs.FileMode) (string, error) {
	var f *os.File
	var name string
	var err error
	for i := 0; i < 100; i++ {
		name = filepath.Join(dir, fmt.Sprintf(".%s%s%d-%d", base, tmpMarker, os.Getpid(), time.Now().UnixNano()%1e9+int64(i)))
		f, err = createExclusive(name, perm)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return "", err
	}
	if testHookTempOpened != nil {
		testHookTempOpened(f)
	}
	// The umask may have narrowed perm; never widen beyond it, but make sure
	// the file is not more open than asked for.
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(name)
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// MaxReadSize caps what ReadFile reads: certificate material is small, and a
// huge or endless file must not exhaust memory.
const MaxReadSize = 1 << 20

// ReadFile reads a regular file of at most MaxReadSize bytes without
// following a symbolic link in its last component.
func ReadFile(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if fi, err = os.Stat(path); err != nil {
			return nil, err
		}
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is a %s, expected a regular file", path, DescribeMode(fi.Mode()))
	}
	return readNoFollow(path, fi.Size())
}

func readNoFollow(path string, size int64) ([]byte, error) {
	if size > MaxReadSize {
		return nil, fmt.Errorf("%s is %d bytes, larger than the %d bytes certificate material can be", path, size, MaxReadSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, size)
	b := bytes.NewBuffer(buf)
	n, err := b.ReadFrom(&limited{f: f, n: MaxReadSize + 1})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if n > MaxReadSize {
		return nil, fmt.Errorf("%s is larger than the %d bytes certificate material can be", path, MaxReadSize)
	}
	return b.Bytes(), nil
}

type limited struct {
	f *os.File
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

func cleanStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + tmpMarker
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
