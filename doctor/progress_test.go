package doctor

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/doctor/probe"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgress(t *testing.T) {
	var out syncBuf
	p := NewProgress(&out, 50*time.Millisecond)
	p.Step("10.0.0.5:2376", probe.StageConnect)
	p.Step("10.0.0.5:2376", probe.StageHandshake) // connect was quick
	time.Sleep(120 * time.Millisecond)
	p.Step("10.0.0.5:2376", "")
	p.Step("10.0.0.6:2376", probe.StageConnect)
	p.Step("10.0.0.6:2376", "") // done before the delay
	time.Sleep(80 * time.Millisecond)
	p.Stop()
	if got, want := out.String(), "probing 10.0.0.5:2376… handshake\n"; got != want {
		t.Errorf("progress output %q, want %q", got, want)
	}
}
