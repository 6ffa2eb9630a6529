package main

import (
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/registry"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Completion, through cobra's __complete as docker runs it for plugins
// (`docker __complete tls …` runs `docker-tls __complete tls …`): flag
// values from the lists the commands accept, files and directories where
// a flag or argument names one, context names from docker's store.

// fileFlags name a file; dirFlags a directory.
var (
	fileFlags = map[string]bool{"ca": true, "cert": true, "ca-cert": true, "ca-key": true, "client-ca": true,
		"client-cert": true, "client-key": true, "daemon-json": true, "targets-file": true, "journal": true}
	dirFlags = map[string]bool{"out": true, "cert-path": true, "dir": true, "root": true, "certs-dir": true}
)

// fileArgCommands take files as arguments.
var fileArgCommands = map[string]bool{"inspect": true}

// completionRequest reports whether args ask cobra for completions
// (docker runs `docker-tls __complete tls …` for a plugin).
func completionRequest(args []string) bool {
	for _, a := range args {
		if a == cobra.ShellCompRequestCmd || a == cobra.ShellCompNoDescRequestCmd {
			return true
		}
	}
	return false
}

func addCompletions(root *cobra.Command, dockerCli command.Cli) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case fileArgCommands[c.Name()]:
			c.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveDefault
			}
		case c.ValidArgsFunction == nil:
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if fn := flagCompletion(c, f, dockerCli); fn != nil {
				_ = c.RegisterFlagCompletionFunc(f.Name, fn)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func fixed(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// valuesFromUsage reads the accepted values a flag's help lists after its
// last colon ("Output format: text, json, sarif or junit"), so the help
// and the completion cannot disagree.
// usageList is compiled on first use (plugin start-up is measured).
var usageList = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`:\s*([a-z0-9-]+(?:(?:,\s*|\s+or\s+)[a-z0-9-]+)+)`)
})

func valuesFromUsage(usage string) []string {
	m := usageList().FindAllStringSubmatch(usage, -1)
	if m == nil {
		return nil
	}
	list := m[len(m)-1][1]
	var out []string
	for _, part := range strings.Split(strings.ReplaceAll(list, " or ", ","), ",") {
		if v := strings.TrimSpace(part); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func flagCompletion(c *cobra.Command, f *pflag.Flag, dockerCli command.Cli) cobra.CompletionFunc {
	switch name := f.Name; {
	case name == "key" && c.LocalFlags().Lookup("days") != nil:
		// issueFlags: --key is a key type where --days is; elsewhere a file.
		names := make([]string, len(pki.KeyTypes))
		for i, k := range pki.KeyTypes {
			names[i] = string(k)
		}
		return fixed(names...)
	case name == "fail-on":
		return fixed(string(catalog.SeverityError), string(catalog.SeverityWarning), string(catalog.SeverityInfo))
	case name == "target":
		names := make([]string, len(registry.Targets))
		for i, t := range registry.Targets {
			names[i] = string(t)
		}
		return fixed(names...)
	case name == "os":
		return fixed("linux", "windows")
	case name == "format":
		return fixed(valuesFromUsage(f.Usage)...)
	case name == "context":
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return contextNames(dockerCli), cobra.ShellCompDirectiveNoFileComp
		}
	case fileFlags[name] || name == "key":
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveDefault
		}
	case dirFlags[name]:
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		}
	}
	return nil
}

// contextNames lists the docker contexts, as `docker context ls` does,
// but "default", which no command here can write.
func contextNames(dockerCli command.Cli) []string {
	list, err := dockerCli.ContextStore().List()
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(list))
	for _, m := range list {
		if m.Name != "default" {
			names = append(names, m.Name)
		}
	}
	sort.Strings(names)
	return names
}
