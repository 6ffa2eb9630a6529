package doctor

import (
	"os"
	"path/filepath"
	"testing"
)

// A worker may resolve a path into another worker's registry directory (a
// hosts.toml naming ../shared/ca.pem) just before that directory's scan
// ends and closes its root: the read must still succeed, through the top
// root, not fail with "file already closed".
func TestClosedDirectoryRootReadsThroughTop(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "shared", "ca.pem"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	sub, err := RootFS(root).(*rootFS).sub("shared")
	if err != nil {
		t.Fatal(err)
	}
	sub.close()
	fi, data := sub.readFile("ca.pem", "/shared/ca.pem")
	if fi.Problem != "" || string(data) != "data" {
		t.Fatalf("read after close: %+v, %q", fi, data)
	}
	if _, err := sub.Stat("ca.pem"); err != nil {
		t.Fatalf("stat after close: %v", err)
	}
}
