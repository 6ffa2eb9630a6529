package doctor

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/docker-tls/docker-tls/pki/fsutil"
)

// fsPath turns a logical absolute path ("/etc/docker") into an fs.FS name
// ("etc/docker").
func fsPath(p string) string {
	if len(p) > 1 && p[0] == '/' && isClean(p) {
		return p[1:]
	}
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}

// fileInfo is what the doctor learned about one path.
type fileInfo struct {
	Path    string
	Exists  bool
	Mode    fs.FileMode // after following a symbolic link
	Symlink string      // link target when the path is a symbolic link
	Size    int64
	// Problem says why the content was not read (special file, too large,
	// permission denied); empty when it was read or does not exist.
	Problem string
}

// statPath looks at p without opening it: a FIFO or device must never be
// opened, because opening a FIFO blocks.
func statPath(fsys fs.FS, name, p string) fileInfo {
	fi := fileInfo{Path: p}
	if rl, ok := fsys.(fs.ReadLinkFS); ok {
		li, err := rl.Lstat(name)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				fi.Exists = true
				fi.Problem = cannotRead(err)
			}
			return fi
		}
		if li.Mode()&fs.ModeSymlink != 0 {
			if t, err := rl.ReadLink(name); err == nil {
				fi.Symlink = t
			} else {
				fi.Symlink = "?"
			}
		}
	}
	st, err := fs.Stat(fsys, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if fi.Symlink != "" {
				fi.Exists = true
				fi.Problem = fmt.Sprintf("symbolic link to %s, which does not exist or leaves the root", fi.Symlink)
			}
			return fi
		}
		fi.Exists = true
		fi.Problem = cannotRead(err)
		if fi.Symlink != "" && errors.Is(err, syscall.ELOOP) {
			fi.Problem = fmt.Sprintf("is a symbolic link to %s that loops (too many levels of symbolic links)", fi.Symlink)
		}
		return fi
	}
	fi.Exists = true
	fi.Mode = st.Mode()
	fi.Size = st.Size()
	return fi
}

// cannotRead is fileInfo.Problem for an error reading a path that exists.
func cannotRead(err error) string { return "cannot be read: " + describeErr(err) }

func describeErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	}
	return err.Error()
}

// readFile reads a regular file of at most fsutil.MaxReadSize bytes. It
// refuses directories, FIFOs, devices and sockets by their mode before
// opening anything, and records why in fi.Problem.
func readFile(fsys fs.FS, name, p string) (fileInfo, []byte) {
	if rf, ok := fsys.(*rootFS); ok {
		return rf.readFile(name, p)
	}
	fi := statPath(fsys, name, p)
	if !fi.Exists || fi.Problem != "" {
		return fi, nil
	}
	if fi.Problem = refuse(fi.Mode, fi.Size); fi.Problem != "" {
		return fi, nil
	}
	f, err := fsys.Open(name)
	if err != nil {
		fi.Problem = cannotRead(err)
		return fi, nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, fsutil.MaxReadSize+1))
	if err != nil {
		fi.Problem = cannotRead(err)
		return fi, nil
	}
	if len(data) > fsutil.MaxReadSize {
		fi.Problem = fmt.Sprintf("is larger than the %d bytes certificate material can be: not read", fsutil.MaxReadSize)
		return fi, nil
	}
	return fi, data
}

// refuse says why a file of this type and size is not read ("" when it
// is read).
func refuse(m fs.FileMode, size int64) string {
	if !m.IsRegular() {
		return "is a " + fsutil.DescribeMode(m) + ", not a regular file: not read"
	}
	if size > fsutil.MaxReadSize {
		return fmt.Sprintf("is %d bytes, larger than the %d bytes certificate material can be: not read", size, fsutil.MaxReadSize)
	}
	return ""
}

// walkDirStream calls fn for each entry of dir in batches, so a directory
// of many thousands of entries is never held in memory at once. Order is
// the file system's, not sorted.
func walkDirStream(fsys fs.FS, dir string, fn func(fs.DirEntry)) error {
	f, err := fsys.Open(fsPath(dir))
	if err != nil {
		return err
	}
	defer f.Close()
	rd, ok := f.(fs.ReadDirFile)
	if !ok {
		entries, err := fs.ReadDir(fsys, fsPath(dir))
		for _, e := range entries {
			fn(e)
		}
		return err
	}
	for {
		batch, err := rd.ReadDir(256)
		for _, e := range batch {
			fn(e)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
	}
}

// rootFS is an fs.FS over an *os.Root. Compared with root.FS() it looks at
// a file's type and size before opening it (a FIFO or device is never
// opened: opening a FIFO can block, opening a device can act on it) and
// opens with O_NONBLOCK, checking the type again on the open descriptor;
// it can open a directory as its own root, so that the many files of one
// certs.d directory are opened relative to it instead of walking the
// whole path each time; and it follows symbolic links that os.Root
// refuses as escaping (an absolute target, or ".." out of such a
// directory root) the way the kernel would if the top root were "/".
type rootFS struct {
	r *os.Root
	// top is the root the doctor was given and prefix this root's
	// directory inside it ("." for top itself).
	top    *os.Root
	prefix string
	// mu guards a directory root (nil for top) against close while an
	// operation uses it; after close, operations go through top.
	mu     *sync.RWMutex
	closed bool
	// dir, when set, is the directory held open by descriptor (Linux,
	// pki/fsutil.Dir): it is listed once and its regular files are read
	// relative to it. Such a directory root has no *os.Root (r is nil):
	// what the descriptor does not serve goes through top.
	dir *fsutil.Dir
}

// RootFS returns the file system the doctor should read root through.
func RootFS(root *os.Root) fs.FS { return &rootFS{r: root, top: root, prefix: "."} }

// escapes reports os.Root's refusal of a path that leaves it (the error is
// not exported).
func escapes(err error) bool {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err != nil && err.Error() == "path escapes from parent"
}

// maxLinks is how many symbolic links one lookup follows (Linux's limit).
const maxLinks = 40

// resolveLinks resolves every symbolic link in name (a path in top) as the
// kernel would with top as "/": an absolute target starts again at top,
// ".." stops there. The result names no symbolic link os.Root would refuse.
func resolveLinks(top *os.Root, name string) (string, error) {
	var done []string
	todo := strings.Split(path.Clean(name), "/")
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cur := path.Join(append(done, c)...)
		li, err := top.Lstat(cur)
		if err != nil {
			return "", err
		}
		if li.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if links++; links > maxLinks {
			return "", &fs.PathError{Op: "open", Path: name, Err: syscall.ELOOP}
		}
		target, err := top.Readlink(cur)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			done = nil
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

// retry runs op on name, and when os.Root refuses it as escaping, again on
// the top root with the links resolved. follow is false for operations
// that do not follow a link in the last component (Lstat, Readlink).
func retry[T any](f *rootFS, name string, follow bool, op func(*os.Root, string) (T, error)) (T, error) {
	f, name, done := f.use(name)
	defer done()
	v, err := op(f.r, name)
	if err == nil || !escapes(err) {
		return v, err
	}
	full := path.Join(f.prefix, name)
	var resolved string
	var rerr error
	if follow {
		resolved, rerr = resolveLinks(f.top, full)
	} else if resolved, rerr = resolveLinks(f.top, path.Dir(full)); rerr == nil {
		resolved = path.Join(resolved, path.Base(full))
	}
	if rerr != nil {
		return v, rerr
	}
	return op(f.top, resolved)
}

func (f *rootFS) Open(name string) (fs.File, error) {
	return retry(f, name, true, func(r *os.Root, n string) (fs.File, error) {
		if !fs.ValidPath(n) {
			return nil, &fs.PathError{Op: "open", Path: n, Err: fs.ErrInvalid}
		}
		file, err := r.Open(n)
		if err != nil {
			return nil, err // a nil *os.File is not a nil fs.File
		}
		return file, nil
	})
}

func (f *rootFS) Stat(name string) (fs.FileInfo, error) { return retry(f, name, true, (*os.Root).Stat) }

func (f *rootFS) Lstat(name string) (fs.FileInfo, error) {
	return retry(f, name, false, (*os.Root).Lstat)
}

func (f *rootFS) ReadLink(name string) (string, error) {
	return retry(f, name, false, (*os.Root).Readlink)
}

func (f *rootFS) ReadDir(name string) ([]fs.DirEntry, error) {
	d, err := retry(f, name, true, (*os.Root).Open)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

// readDirNames lists a directory's names without stat'ing the entries.
// The directory is opened with O_NONBLOCK (meaningless for a directory):
// os then skips the fcntl calls it makes to set and clear the flag around
// its poller registration, four system calls per registry directory.
func (f *rootFS) readDirNames(name string) ([]string, error) {
	if name == "." && f.dir != nil {
		f.mu.RLock()
		if !f.closed {
			names, err := f.dir.Names()
			if err == nil {
				names = slices.Clone(names)
			}
			f.mu.RUnlock()
			if err == nil {
				return names, nil
			}
		} else {
			f.mu.RUnlock()
		}
	}
	d, err := retry(f, name, true, openDirNonblock)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

func openDirNonblock(r *os.Root, name string) (*os.File, error) {
	return r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

func (f *rootFS) sub(dir string) (*rootFS, error) {
	r, err := f.r.OpenRoot(dir)
	prefix := path.Join(f.prefix, dir)
	if escapes(err) {
		if prefix, err = resolveLinks(f.top, prefix); err == nil {
			r, err = f.top.OpenRoot(prefix)
		}
	}
	if err != nil {
		return nil, err
	}
	return &rootFS{r: r, top: f.top, prefix: prefix, mu: new(sync.RWMutex)}, nil
}

// subAt is sub for dir, one entry of parent (the directory open by
// descriptor that holds it): the directory is opened relative to parent
// without following a symbolic link, so that it costs one openat instead
// of a walk from top. A link, an error, or a system without fsutil.Dir
// takes sub's way.
func (f *rootFS) subAt(parent *fsutil.Dir, dir string) (*rootFS, error) {
	d, err := parent.OpenDir(path.Base(dir))
	if err != nil {
		return f.sub(dir)
	}
	prefix := dir
	if f.prefix != "." {
		prefix = path.Join(f.prefix, dir)
	}
	return &rootFS{top: f.top, prefix: prefix, mu: new(sync.RWMutex), dir: d}, nil
}

// openDir opens dir (following links as Open does) as a directory held by
// descriptor, for subAt; nil where fsutil.Dir is not available.
func (f *rootFS) openDir(dir string) *fsutil.Dir {
	h, err := retry(f, dir, true, (*os.Root).Open)
	if err != nil {
		return nil
	}
	d, err := fsutil.NewDir(h)
	if err != nil {
		h.Close()
		return nil
	}
	return d
}

// use returns the root to run one operation on, and the function that
// ends the operation. A directory root's scan can end, and close it, while
// another worker still reads a path in that directory (a hosts.toml
// elsewhere naming ../shared/ca.pem): that read then goes through top.
func (f *rootFS) use(name string) (*rootFS, string, func()) {
	if f.mu == nil {
		return f, name, func() {}
	}
	f.mu.RLock()
	if f.closed || f.r == nil {
		f.mu.RUnlock()
		return &rootFS{r: f.top, top: f.top, prefix: "."}, path.Join(f.prefix, name), func() {}
	}
	return f, name, f.mu.RUnlock
}

// close closes a directory root once no operation uses it.
func (f *rootFS) close() {
	if f.mu == nil {
		f.r.Close()
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.r != nil {
		f.r.Close()
	}
	if f.dir != nil {
		f.dir.Close()
	}
}

func (f *rootFS) readFile(name, p string) (fileInfo, []byte) {
	if f.dir != nil {
		// One openat, one fstat of the open descriptor, the reads; what
		// is not plainly a regular file takes the way below, which says
		// why.
		f.mu.RLock()
		if !f.closed {
			data, mode, size, err := f.dir.ReadRegular(name, fsutil.MaxReadSize)
			if err == nil {
				f.mu.RUnlock()
				return fileInfo{Path: p, Exists: true, Mode: mode, Size: size}, data
			}
		}
		f.mu.RUnlock()
	}
	st, err := f.Stat(name)
	if err != nil {
		// Say why in the caller's terms (missing, dangling link, loop...).
		return statPath(f, name, p), nil
	}
	fi := fileInfo{Path: p, Exists: true, Mode: st.Mode(), Size: st.Size()}
	if fi.Problem = refuse(fi.Mode, fi.Size); fi.Problem != "" {
		return fi, nil
	}
	h, err := retry(f, name, true, func(r *os.Root, n string) (*os.File, error) {
		return r.OpenFile(n, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	})
	if err != nil {
		fi.Problem = cannotRead(err)
		return fi, nil
	}
	defer h.Close()
	// The path may have changed between the look and the open.
	if st, err = h.Stat(); err != nil {
		fi.Problem = cannotRead(err)
		return fi, nil
	}
	fi.Mode, fi.Size = st.Mode(), st.Size()
	if fi.Problem = refuse(fi.Mode, fi.Size); fi.Problem != "" {
		return fi, nil
	}
	buf := make([]byte, 0, st.Size()+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := h.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > fsutil.MaxReadSize {
			fi.Problem = fmt.Sprintf("is larger than the %d bytes certificate material can be: not read", fsutil.MaxReadSize)
			return fi, nil
		}
		if err == io.EOF {
			return fi, buf
		}
		if err != nil {
			fi.Problem = cannotRead(err)
			return fi, nil
		}
	}
}
