package render

import (
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/doctor/catalog"
)

func TestExplain(t *testing.T) {
	text, err := Explain("key-encrypted")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"key-encrypted: Encrypted private key (error)", "private key is encrypted", "Fix: Decrypt", "Source: docker/cli"} {
		if !strings.Contains(text, want) {
			t.Errorf("Explain lacks %q:\n%s", want, text)
		}
	}
	_, err = Explain("certsd")
	if err == nil || !strings.Contains(err.Error(), `unknown check "certsd"`) || !strings.Contains(err.Error(), "certsd-port-443") {
		t.Errorf("Explain(certsd) error = %v", err)
	}
	if got := strings.Count(ListText(), "\n"); got != len(catalog.List()) {
		t.Errorf("ListText has %d lines, want %d", got, len(catalog.List()))
	}
}
