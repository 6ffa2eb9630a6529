package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/pki/fsutil"
)

// errLocked is returned by tryLock when another process holds the lock.
var errLocked = errors.New("locked")

// lockHost keeps two provision or rotate runs from changing the same host
// at once: an exclusive lock (flock, LockFileEx on Windows) on
// $DOCKER_CONFIG/tls/locks/HOST.lock, held until the returned function is
// called or the process exits. The file says who holds it, for the error
// of the run that finds it taken.
func lockHost(host, what string) (func(), error) {
	dir := filepath.Join(ownDir(), "locks")
	if err := fsutil.EnsureDir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s for the lock of %s: %w", dir, host, err)
	}
	path := filepath.Join(dir, lockName(host)+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock of %s (%s): %w", host, path, err)
	}
	if err := tryLock(f); err != nil {
		holder := make([]byte, 512)
		n, _ := f.ReadAt(holder, 0)
		f.Close()
		if errors.Is(err, errLocked) {
			who := strings.TrimSpace(string(holder[:n]))
			if who == "" {
				who = "another process"
			}
			return nil, notDone(fmt.Errorf("another docker-tls run is changing %s: %s. Wait for it to finish and run this again (the lock %s is released when that run exits)", host, who, path))
		}
		return nil, fmt.Errorf("locking %s (%s): %w", host, path, err)
	}
	me, _ := os.Hostname()
	info := fmt.Sprintf("%q (pid %d on %s, started %s)", what, os.Getpid(), me, time.Now().UTC().Format(time.RFC3339))
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(info+"\n"), 0)
	return func() {
		_ = f.Truncate(0)
		_ = unlockFile(f)
		f.Close()
	}, nil
}

// lockName turns a host into a file name.
func lockName(host string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(host) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	return b.String()
}

// commandLine is this run's command, for the holder of a lock.
func commandLine() string {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "tls" {
		args = args[1:]
	}
	return "docker tls " + strings.Join(args, " ")
}
