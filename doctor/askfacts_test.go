package doctor

import (
	"testing"
	"testing/fstest"

	"github.com/docker-tls/docker-tls/pki/loader"
)

// The loaders' versions cost a process each (containerd --version,
// dockerd --version): the static checks ask for them only when a certs.d
// root is there to judge, and then once.
func TestLoaderFactsAskedOnlyForCertsD(t *testing.T) {
	for _, c := range []struct {
		name string
		fs   fstest.MapFS
		want int
	}{
		{"no certs.d", fstest.MapFS{"home/u/.docker/config.json": {Data: []byte("{}")}}, 0},
		{"certs.d", fstest.MapFS{
			"etc/docker/certs.d/r.example:5000/ca.crt":     {Data: []byte("x")},
			"etc/containerd/certs.d/r.example:5000/ca.crt": {Data: []byte("x")},
		}, 1},
	} {
		asked := map[string]int{}
		_, err := Run(Options{FS: c.fs, Env: map[string]string{"HOME": "/home/u"}, Now: fixtureNow,
			AskContainerd: func() loader.ContainerdVersion { asked["containerd"]++; return loader.Containerd2 },
			AskDockerd:    func() loader.DockerdFacts { asked["dockerd"]++; return loader.DockerdFacts{} },
		})
		if err != nil {
			t.Fatal(err)
		}
		if asked["containerd"] != c.want || asked["dockerd"] != c.want {
			t.Errorf("%s: asked %v, want each %d times", c.name, asked, c.want)
		}
	}
}
