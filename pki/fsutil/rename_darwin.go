package fsutil

import (
	"errors"

	"golang.org/x/sys/unix"
)

// RenameNoReplace renames from to to and fails when to exists (also as a
// dangling symbolic link): renamex_np(RENAME_EXCL), or link+unlink where
// the file system does not support it.
func RenameNoReplace(from, to string) error {
	err := unix.RenamexNp(from, to, unix.RENAME_EXCL)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTSUP) {
		err = linkRename(from, to)
	}
	return existsErr(to, err)
}
