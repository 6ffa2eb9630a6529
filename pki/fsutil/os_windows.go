package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// privateSD is the security descriptor of a private file or directory
// (see PrivateSDDL), for the user running this process.
func privateSD(dir bool) (*windows.SECURITY_DESCRIPTOR, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("finding the current user's SID: %w", err)
	}
	return windows.SecurityDescriptorFromString(PrivateSDDL(u.User.Sid.String(), dir))
}

func securityAttributes(perm fs.FileMode, dir bool) (*windows.SecurityAttributes, error) {
	if !IsPrivate(perm) {
		return nil, nil // inherit the directory's DACL
	}
	sd, err := privateSD(dir)
	if err != nil {
		return nil, err
	}
	return &windows.SecurityAttributes{
		Length:             uint32(unsafe.Sizeof(windows.SecurityAttributes{})),
		SecurityDescriptor: sd,
	}, nil
}

// createExclusive creates name, which must not exist (CREATE_NEW; with
// FILE_FLAG_OPEN_REPARSE_POINT a symbolic link or junction in its place is
// never followed), with its DACL set at creation: a private perm gets
// PrivateSDDL from the first byte.
func createExclusive(name string, perm fs.FileMode) (*os.File, error) {
	sa, err := securityAttributes(perm, false)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	attrs := uint32(windows.FILE_ATTRIBUTE_NORMAL | windows.FILE_FLAG_OPEN_REPARSE_POINT)
	if perm&0o200 == 0 {
		attrs |= windows.FILE_ATTRIBUTE_READONLY
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, sa, windows.CREATE_NEW, attrs, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}

// mkdir creates one directory; a private perm gets PrivateSDDL, inherited
// by what is created in it.
func mkdir(dir string, perm fs.FileMode) error {
	sa, err := securityAttributes(perm, true)
	if err != nil {
		return &fs.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return &fs.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	if err := windows.CreateDirectory(p, sa); err != nil {
		return &fs.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	return nil
}

// setMode makes an existing file private (PrivateSDDL, through a handle
// that does not follow reparse points) when perm is private; other modes
// leave its DACL alone.
func setMode(path string, _ fs.FileInfo, perm fs.FileMode) error {
	if !IsPrivate(perm) {
		return nil
	}
	sd, err := privateSD(false)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	h, err := openHandle(path, windows.READ_CONTROL|windows.WRITE_DAC)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	return windows.SetSecurityInfo(h, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}

func openHandle(path string, access uint32) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, access,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return h, nil
}

// OpenNoFollow opens a file for reading without following a reparse point
// (symbolic link, junction) in its last component.
func OpenNoFollow(path string) (*os.File, error) {
	h, err := openHandle(path, windows.GENERIC_READ)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(h), path), nil
}

// ChmodNoFollow is not supported on Windows: file modes do not say who can
// read a file there (its DACL does), so the doctor plans no mode fix there.
func ChmodNoFollow(path string, mode fs.FileMode) error {
	return fmt.Errorf("cannot set mode %04o on %s: Windows has no file modes (a file's DACL says who can read it)", uint32(mode), path)
}

// RenameNoReplace renames from to to and fails when to exists:
// MoveFileEx without MOVEFILE_REPLACE_EXISTING.
func RenameNoReplace(from, to string) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return err
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return err
	}
	err = windows.MoveFileEx(f, t, 0)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists", to)
	}
	return err
}

// keepOwner: a replacement keeps the directory's inherited security.
func keepOwner(string, fs.FileInfo) {}
