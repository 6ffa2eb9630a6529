package doctor

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

func TestInstalledAPIVersion(t *testing.T) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker on PATH")
	}
	out, _ := exec.Command(bin, "-H", "unix:///nonexistent-docker-tls.sock", "version", "--format", "{{.Client.APIVersion}}").Output()
	want := strings.TrimSpace(string(out))
	if got := InstalledAPIVersion(context.Background()); got != want || got == "" {
		t.Errorf("InstalledAPIVersion = %q, docker says %q", got, want)
	}
	t.Setenv("PATH", t.TempDir())
	if got := InstalledAPIVersion(context.Background()); got != "" {
		t.Errorf("without docker: %q", got)
	}
}
