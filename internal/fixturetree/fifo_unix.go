//go:build unix

package fixturetree

import "syscall"

func mkfifo(p string, mode uint32) error { return syscall.Mkfifo(p, mode) }
