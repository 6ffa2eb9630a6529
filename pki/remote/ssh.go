// Package remote runs commands and reads and writes files on another host
// through the system ssh client, the way docker's own ssh:// connection does
// (docker/cli cli/connhelper/ssh): ~/.ssh/config, the agent and known_hosts
// are honoured because ssh itself handles them. No SSH library is used.
//
// Every remote step is one POSIX sh script sent on ssh's stdin ("sh -s"),
// run as root: directly when the login user is root, otherwise through
// "sudo -n", which fails instead of prompting when sudo wants a password.
package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
)

// Target is an ssh://[user@]host[:port] destination.
type Target struct {
	// URL is the destination as the user wrote it (for messages).
	URL  string
	User string
	Host string
	Port string
	// ConfigFile, when set, is passed to ssh as -F.
	ConfigFile string
	// SSH is the ssh binary (default "ssh" from PATH).
	SSH string

	sudo    bool
	checked bool
}

// ParseURL parses ssh://[user@]host[:port] as docker's connection helper
// does: no password, no path, query or fragment.
func ParseURL(s string) (*Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid ssh URL %q: %v", s, err)
	}
	if u.Scheme != "ssh" {
		return nil, fmt.Errorf("invalid ssh URL %q: expected ssh://[user@]host[:port]", s)
	}
	t := &Target{URL: s}
	if u.User != nil {
		t.User = u.User.Username()
		if _, pass := u.User.Password(); pass {
			return nil, fmt.Errorf("invalid ssh URL %q: a password in the URL is not supported (use ssh keys or the agent)", s)
		}
	}
	t.Host = u.Hostname()
	t.Port = u.Port()
	if t.Host == "" {
		return nil, fmt.Errorf("invalid ssh URL %q: no host name", s)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid ssh URL %q: extra path, query or fragment (expected ssh://[user@]host[:port])", s)
	}
	return t, nil
}

// sshArgs are the arguments before the remote command, as docker builds them.
func (t *Target) sshArgs() []string {
	var args []string
	if t.ConfigFile != "" {
		args = append(args, "-F", t.ConfigFile)
	}
	if t.User != "" {
		args = append(args, "-l", t.User)
	}
	if t.Port != "" {
		args = append(args, "-p", t.Port)
	}
	return append(args, "--", t.Host)
}

func (t *Target) bin() string {
	if t.SSH != "" {
		return t.SSH
	}
	return "ssh"
}

// Resolved is what ssh -G says the destination is after ~/.ssh/config.
type Resolved struct {
	HostName string
	User     string
	Port     string
}

// Resolve asks ssh how it would connect (ssh -G), so a Host alias in the
// ssh configuration gives the real host name.
func (t *Target) Resolve(ctx context.Context) (Resolved, error) {
	args := append([]string{"-G"}, t.sshArgs()...)
	out, err := exec.CommandContext(ctx, t.bin(), args...).Output()
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: ssh -G: %v%s", t.URL, err, exitText(err))
	}
	var r Resolved
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "hostname":
			r.HostName = v
		case "user":
			r.User = v
		case "port":
			r.Port = v
		}
	}
	if r.HostName == "" {
		r.HostName = t.Host
	}
	return r, nil
}

func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// ErrSudoPassword is returned when the login user is not root and sudo
// asks for a password.
var ErrSudoPassword = errors.New("sudo wants a password")

type sudoError string

func (e sudoError) Error() string        { return string(e) }
func (e sudoError) Is(target error) bool { return target == ErrSudoPassword }

// Error is a remote script that failed: its exit status and output.
type Error struct {
	Target string
	What   string
	Code   int
	Stderr string
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = "no output"
	}
	if e.Code == 255 {
		return fmt.Sprintf("%s: ssh failed while trying to %s: %s", e.Target, e.What, msg)
	}
	return fmt.Sprintf("%s: %s failed (exit status %d): %s", e.Target, e.What, e.Code, msg)
}

// run runs script with sh on the remote host, as root when root is set.
func (t *Target) run(ctx context.Context, what, script string, root bool) ([]byte, error) {
	remoteCmd := "sh -s"
	if root && t.sudo {
		remoteCmd = "sudo -n sh -s"
	}
	args := append(t.sshArgs(), remoteCmd)
	cmd := exec.CommandContext(ctx, t.bin(), args...)
	cmd.Stdin = strings.NewReader(script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return nil, fmt.Errorf("%s: running %s: %v", t.URL, t.bin(), err)
	}
	se := stderr.String()
	if root && t.sudo {
		if err := t.sudoProblem(se); err != nil {
			return nil, err
		}
	}
	return stdout.Bytes(), &Error{Target: t.URL, What: what, Code: ee.ExitCode(), Stderr: se}
}

// sudoProblem turns sudo's refusal (seen on stderr) into an error that says
// how to fix the host's sudo setup; nil when sudo did not refuse.
func (t *Target) sudoProblem(se string) error {
	if strings.Contains(se, "sudo: sorry, you must have a tty to run sudo") {
		return fmt.Errorf("%s: the login user is not root and sudo refuses to run without a terminal (requiretty in sudoers): allow this user sudo without requiretty (Defaults:USER !requiretty), or connect as root (ssh://root@%s)", t.URL, t.Host)
	}
	if strings.Contains(se, "sudo:") && (strings.Contains(se, "password is required") || strings.Contains(se, "a terminal is required")) {
		var said []string
		for _, l := range strings.Split(se, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "sudo:") {
				said = append(said, strings.TrimSpace(l))
			}
		}
		return sudoError(fmt.Sprintf("%s: the login user is not root and sudo wants a password (sudo -n said %q): allow this user passwordless sudo (NOPASSWD in sudoers), or connect as root (ssh://root@%s)",
			t.URL, strings.Join(said, "; "), t.Host))
	}
	return nil
}

// Run runs a script as root and returns its standard output.
func (t *Target) Run(ctx context.Context, what, script string) ([]byte, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	return t.run(ctx, what, script, true)
}

// check learns once whether the login user is root.
func (t *Target) check(ctx context.Context) error {
	if t.checked {
		return nil
	}
	out, err := t.run(ctx, "connect", "id -u\n", false)
	if err != nil {
		return err
	}
	uid := strings.TrimSpace(string(out))
	if _, err := strconv.Atoi(uid); err != nil {
		return fmt.Errorf("%s: unexpected answer to id -u: %q", t.URL, uid)
	}
	t.sudo = uid != "0"
	t.checked = true
	return nil
}

// UsesSudo reports whether remote scripts run through sudo (after the first Run).
func (t *Target) UsesSudo() bool { return t.sudo }

// Quote quotes s for a POSIX shell.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// RunOutput runs a shell command line as root and returns its combined
// standard output and error, also when it fails.
func (t *Target) RunOutput(ctx context.Context, what, command string) ([]byte, error) {
	out, err := t.Run(ctx, what, "exec 2>&1\n"+command+"\n")
	var re *Error
	if errors.As(err, &re) {
		re.Stderr = string(out)
	}
	return out, err
}
