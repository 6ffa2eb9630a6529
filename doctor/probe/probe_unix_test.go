//go:build unix

package probe

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestClientFromCertsDirSpecialFiles: a FIFO named ca.crt in certs.d is an
// error naming it, not a probe that blocks forever reading it.
func TestClientFromCertsDirSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "ca.crt"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ClientFromCertsDir(dir); done <- err }()
	select {
	case err := <-done:
		want := filepath.Join(dir, "ca.crt") + " is a FIFO, expected a regular file"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v, want %q", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ClientFromCertsDir blocked on a FIFO")
	}
}
