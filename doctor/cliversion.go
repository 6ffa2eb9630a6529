package doctor

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// apiVersionRE is compiled on first use: docker runs every plugin at each
// docker help, and start-up is measured.
var apiVersionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+\.[0-9]+$`) })

// InstalledAPIVersion is the API version the docker CLI on this machine
// uses before it negotiates (what its error lines carry in URLs, /v1.50/
// for docker 28.2): `docker version --format '{{.Client.APIVersion}}'`,
// run against a socket that does not exist so that nothing is contacted.
// The docker that started the plugin is asked first
// (DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND), then docker on PATH; "" when
// there is none.
func InstalledAPIVersion(ctx context.Context) string {
	bin := os.Getenv("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND")
	if bin == "" {
		p, err := exec.LookPath("docker")
		if err != nil {
			return ""
		}
		bin = p
	}
	cfg, err := os.MkdirTemp("", "docker-tls-version-")
	if err != nil {
		return ""
	}
	defer os.RemoveAll(cfg)
	// docker answers in tens of milliseconds; 3 s were seen to run out on
	// a loaded machine, and the line then carried the bundled client's
	// version instead of the installed one's.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config", cfg, "-H", "unix://"+cfg+"/none.sock", "version", "--format", "{{.Client.APIVersion}}")
	var env []string
	for _, kv := range os.Environ() {
		// The plugin hand-shake variables would make docker act as a
		// plugin host; DOCKER_API_VERSION stays: docker uses it too.
		if !strings.HasPrefix(kv, "DOCKER_CLI_PLUGIN_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	out, _ := cmd.Output() // exits 1: no daemon there
	v := strings.TrimSpace(string(out))
	if !apiVersionRE().MatchString(v) {
		return ""
	}
	return v
}
