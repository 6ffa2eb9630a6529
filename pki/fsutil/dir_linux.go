package fsutil

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

type dir struct {
	fd   int
	file *os.File // the file NewDir took over (owns fd); nil when fd is ours

	listOnce sync.Once
	ents     []dirent // sorted by name
	names    []string
	listErr  error

	closeOnce sync.Once
}

type dirent struct {
	name string
	typ  fs.FileMode
}

// NewDir takes over f, an open directory: closing the Dir closes f.
func NewDir(f *os.File) (*Dir, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	if err := rc.Control(func(p uintptr) { fd = int(p) }); err != nil {
		return nil, err
	}
	return &Dir{dir{fd: fd, file: f}}, nil
}

// OpenDir opens the directory name (one path component) inside d without
// following a symbolic link: a link, a non-directory or any error returns
// an error, and the caller takes its portable path.
func (d *Dir) OpenDir(name string) (*Dir, error) {
	if name == "" || name == "." || name == ".." || strings.IndexByte(name, '/') >= 0 {
		return nil, errFallback
	}
	fd, err := openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK)
	runtime.KeepAlive(d)
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	return &Dir{dir{fd: fd}}, nil
}

// cname is name NUL-terminated in buf when it fits (no allocation), else
// a new slice; ok is false for a name holding a NUL.
func cname(buf *[256]byte, name string) ([]byte, bool) {
	if strings.IndexByte(name, 0) >= 0 {
		return nil, false
	}
	if len(name) < len(buf) {
		n := copy(buf[:], name)
		buf[n] = 0
		return buf[:n+1], true
	}
	b := make([]byte, len(name)+1)
	copy(b, name)
	return b, true
}

// openat is unix.Openat without its allocation of the name.
func openat(dirfd int, name string, flags int) (int, error) {
	var buf [256]byte
	p, ok := cname(&buf, name)
	if !ok {
		return -1, unix.EINVAL
	}
	for {
		fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&p[0])), uintptr(flags), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return -1, errno
		}
		return int(fd), nil
	}
}

var direntBufs = sync.Pool{New: func() any { b := make([]byte, 8192); return &b }}

func (d *Dir) list() {
	d.ents = make([]dirent, 0, 8) // a registry directory holds a few files
	if err := d.Each(func(name string, typ fs.FileMode) { d.ents = append(d.ents, dirent{name, typ}) }); err != nil {
		d.ents, d.listErr = nil, err
		return
	}
	slices.SortFunc(d.ents, func(a, b dirent) int { return strings.Compare(a.name, b.name) })
	d.names = make([]string, len(d.ents))
	for i, e := range d.ents {
		d.names[i] = e.name
	}
}

// Each calls fn for every entry of the directory ("." and ".." left out)
// in the file system's order, from one read of the directory, a batch at
// a time: a directory of many thousands of entries is never held in
// memory. Each is not for a Dir whose Names or Type was called, nor
// twice.
func (d *Dir) Each(fn func(name string, typ fs.FileMode)) error {
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	for {
		n, err := unix.ReadDirent(d.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "readdirent", Path: ".", Err: err}
		}
		if n <= 0 {
			runtime.KeepAlive(d)
			return nil
		}
		parseDirents(buf[:n], fn)
	}
}

// parseDirents calls fn for the linux_dirent64 records in b (d_ino u64,
// d_off s64, d_reclen u16, d_type u8, d_name NUL-terminated).
func parseDirents(b []byte, fn func(string, fs.FileMode)) {
	const nameOff = 19
	for len(b) >= nameOff {
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < nameOff || reclen > len(b) {
			return
		}
		typ, name := b[18], b[nameOff:reclen]
		b = b[reclen:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if string(name) == "." || string(name) == ".." {
			continue
		}
		t := TypeUnknown
		switch typ {
		case unix.DT_REG:
			t = 0
		case unix.DT_DIR:
			t = fs.ModeDir
		case unix.DT_LNK:
			t = fs.ModeSymlink
		case unix.DT_FIFO:
			t = fs.ModeNamedPipe
		case unix.DT_SOCK:
			t = fs.ModeSocket
		case unix.DT_CHR:
			t = fs.ModeDevice | fs.ModeCharDevice
		case unix.DT_BLK:
			t = fs.ModeDevice
		}
		fn(string(name), t)
	}
}

// Names lists the directory once and returns its entries' names, sorted
// (later calls return the same listing). The slice must not be modified.
func (d *Dir) Names() ([]string, error) {
	d.listOnce.Do(d.list)
	return d.names, d.listErr
}

// Type is what the listing says name is (listing the directory first if
// it was not).
func (d *Dir) Type(name string) fs.FileMode {
	d.listOnce.Do(d.list)
	i, ok := slices.BinarySearchFunc(d.ents, name, func(e dirent, n string) int { return strings.Compare(e.name, n) })
	if !ok {
		return TypeUnknown
	}
	return d.ents[i].typ
}

// ReadRegular reads name, a regular file of at most max bytes in d. It
// looks at the entry first without following a symbolic link (fstatat): a
// FIFO, a device or a file larger than max is never opened. It then opens
// it once (not following a link, O_NONBLOCK so that a FIFO put there
// since cannot block) and checks the open descriptor's type and size
// again. Anything else — an entry that is not a regular file, a link, a
// file larger than max, any error — returns an error IsFallback reports:
// the caller looks at the file its portable way, which says why.
func (d *Dir) ReadRegular(name string, max int64) ([]byte, fs.FileMode, int64, error) {
	if name == "" || name == "." || name == ".." || strings.IndexByte(name, '/') >= 0 {
		return nil, 0, 0, errFallback
	}
	if t := d.Type(name); t != 0 && t != TypeUnknown {
		return nil, 0, 0, errFallback // the listing says: not a regular file
	}
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || !regular(&st, max) {
		return nil, 0, 0, errFallback
	}
	fd, err := openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
	runtime.KeepAlive(d)
	if err != nil {
		return nil, 0, 0, errFallback
	}
	defer unix.Close(fd)
	// The entry may have changed between the look and the open.
	if err := unix.Fstat(fd, &st); err != nil || !regular(&st, max) {
		return nil, 0, 0, errFallback
	}
	buf := make([]byte, 0, st.Size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < 0 {
			return nil, 0, 0, errFallback
		}
		want := cap(buf) - len(buf)
		if n == 0 {
			return buf, fileMode(st.Mode, false), st.Size, nil
		}
		if buf = buf[:len(buf)+n]; int64(len(buf)) > max {
			return nil, 0, 0, errFallback
		}
		if n < want && int64(len(buf)) == st.Size {
			// A short read of a regular file, ending where fstat said
			// it ends: the end of the file (one read(2) fewer per file).
			return buf, fileMode(st.Mode, false), st.Size, nil
		}
	}
}

func regular(st *unix.Stat_t, max int64) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size <= max
}

// Close closes the directory.
func (d *Dir) Close() error {
	var err error
	d.closeOnce.Do(func() {
		if d.file != nil {
			err = d.file.Close()
		} else {
			err = unix.Close(d.fd)
		}
	})
	return err
}
