package registry

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/docker-tls/docker-tls/pki/loader"
	mobyregistry "github.com/docker/docker/registry"
)

// mirrorEntries are registry-mirrors entries as users write them, good and
// bad: each of ValidateMirror's refusals, the normalisations, and inputs
// url.Parse reads in surprising ways.
var mirrorEntries = []string{
	"https://mirror.example", "https://mirror.example/", "https://mirror.example:5000", "http://mirror.example:5000/",
	"http://127.0.0.1:5000", "https://[fd00::1]:5000", "https://mirror.example/some/path", "https://mirror.example/v2/",
	"mirror.example", "mirror.example:5000", "10.0.0.1:5000", "[::1]:5000", "//mirror.example", "://mirror.example",
	"ftp://mirror.example", "HTTPS://mirror.example", "https://mirror.example?x=1", "https://mirror.example/#frag",
	"https://user:secret@mirror.example", "https://user@mirror.example", "https://mirror.example:notaport",
	"https://mirror exa mple", "https://%zz", "https://", "", " https://mirror.example", "https://mirror.example\n",
	"unix:///var/run/m.sock", "https:mirror.example", "https:///path-only",
}

func mobyMirrors(entries []string) (mirrors []string, hub []string, err error) {
	s, err := mobyregistry.NewService(mobyregistry.ServiceOptions{Mirrors: entries})
	if err != nil {
		return nil, nil, err
	}
	c := s.ServiceConfig()
	return c.Mirrors, c.IndexConfigs["docker.io"].Mirrors, nil
}

func checkMirrors(t *testing.T, entries []string) {
	t.Helper()
	for _, e := range entries {
		want, werr := mobyregistry.ValidateMirror(e)
		got, gerr := loader.ValidateMirror("28.5.2", e)
		if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Errorf("ValidateMirror(%q):\n model %q, %v\n  moby %q, %v", e, got, gerr, want, werr)
		}
	}
	wantM, wantHub, werr := mobyMirrors(entries)
	ms, gerr := loader.LoadMirrors("28.5.2", entries)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Errorf("LoadMirrors(%q): model error %v, moby %v", entries, gerr, werr)
		return
	}
	if werr != nil {
		return
	}
	got := []string{}
	for _, m := range ms {
		got = append(got, m.URL)
	}
	if wantM == nil {
		wantM = []string{} // copy() of an empty list
	}
	if !reflect.DeepEqual(got, wantM) || !reflect.DeepEqual(got, wantHub) {
		t.Errorf("LoadMirrors(%q):\n model %q\n  moby %q (docker.io's mirrors %q)", entries, got, wantM, wantHub)
	}
}

// TestMirrors: docker/docker v28.5.2's ValidateMirror and its registry
// service's loadMirrors (through NewService, as dockerd starts it) against
// the model, entry by entry and as lists with duplicates.
func TestMirrors(t *testing.T) {
	checkMirrors(t, mirrorEntries)
	var good []string
	for _, e := range mirrorEntries {
		if _, err := mobyregistry.ValidateMirror(e); err == nil {
			good = append(good, e)
		}
	}
	if len(good) < 6 || len(good) == len(mirrorEntries) {
		t.Fatalf("corpus: %d of %d entries valid; it must hold both kinds", len(good), len(mirrorEntries))
	}
	// Lists: duplicates after normalisation, a bad entry in the middle.
	checkMirrors(t, append(append([]string{}, good...), good...))
	checkMirrors(t, []string{good[0], "mirror.example:5000", good[1]})
	checkMirrors(t, []string{"https://m.example", "https://m.example/", "http://m.example"})
	checkMirrors(t, nil)
}

func FuzzMirror(f *testing.F) {
	for _, e := range mirrorEntries {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, e string) {
		checkMirrors(t, []string{e})
	})
}
