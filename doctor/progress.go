package doctor

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/docker-tls/docker-tls/doctor/probe"
)

// Progress writes one line ("probing 10.0.0.5:2376… handshake") for a
// probe step that is still running after a delay, so that a user at a
// terminal sees a slow probe move. The plugin uses it only for the text
// format on a terminal; it writes to stderr, never into the report.
type Progress struct {
	w     io.Writer
	delay time.Duration

	mu     sync.Mutex
	timers map[string]*time.Timer
}

// NewProgress reports steps running longer than delay to w.
func NewProgress(w io.Writer, delay time.Duration) *Progress {
	return &Progress{w: w, delay: delay, timers: map[string]*time.Timer{}}
}

// Step is probe.Options.Progress: addr starts stage ("" when done).
func (p *Progress) Step(addr string, stage probe.Stage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.timers[addr]; t != nil {
		t.Stop()
		delete(p.timers, addr)
	}
	if stage == "" {
		return
	}
	p.timers[addr] = time.AfterFunc(p.delay, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		fmt.Fprintf(p.w, "probing %s… %s\n", addr, stage)
	})
}

// Stop cancels what is pending.
func (p *Progress) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, t := range p.timers {
		t.Stop()
		delete(p.timers, k)
	}
}
