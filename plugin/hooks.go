package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/docker-tls/docker-tls/doctor/errtext"
	"github.com/docker-tls/docker-tls/pki/daemoncfg"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker/cli/cli-plugins/hooks"
	"github.com/docker/cli/cli-plugins/metadata"
	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/config"
	"github.com/spf13/cobra"
)

// hookCommands are the docker commands after which the docker CLI runs
// our hook (config.json plugins.tls.hooks). The hook prints a hint only
// when the command failed with a TLS error.
const hookCommands = "pull,push,login,version,info"

// hooksCmds returns the hidden docker-cli-plugin-hooks command the docker
// CLI runs after a hooked command, and `hooks enable|disable`.
func hooksCmds(dockerCli command.Cli) []*cobra.Command {
	return []*cobra.Command{hookRunCmd(), hooksCmd(dockerCli)}
}

// hookRunCmd answers the docker CLI's hook call:
//
//	docker-tls tls docker-cli-plugin-hooks '{"RootCmd":"pull","Flags":{},"CommandError":"…"}'
//
// It must stay cheap: the docker CLI runs it after every hooked command. Its
// PersistentPreRun replaces the plugin framework's, so the docker client
// is never initialised (as for docker-cli-plugin-metadata).
func hookRunCmd() *cobra.Command {
	return &cobra.Command{
		Use:                metadata.HookSubcommandName,
		Hidden:             true,
		Args:               cobra.ArbitraryArgs,
		DisableFlagParsing: true,
		PersistentPreRun:   func(*cobra.Command, []string) {},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHook(cmd.OutOrStdout(), args)
		},
	}
}

// runHook writes the hook response for the request in args[0]: a
// "What's next" line with the doctor command when the command failed with
// a TLS error, else an empty response (the CLI prints nothing). Bad input
// also gets an empty response: a hook must never break the command it
// follows.
func runHook(w io.Writer, args []string) error {
	resp := hooks.Response{Type: hooks.NextSteps}
	if len(args) > 0 {
		var req hooks.Request
		if json.Unmarshal([]byte(args[0]), &req) == nil {
			resp.Template = HookHint(req.CommandError)
		}
	}
	return json.NewEncoder(w).Encode(resp)
}

// HookHint is the one-line hint for a failed command's error text, or ""
// when the text is not a TLS error docker tls doctor explains. docker
// 28.2 and later pass the error text (hooks.Request.CommandError) for
// docker's own commands; after a plugin command they pass none, and the
// hook stays silent.
func HookHint(commandError string) string {
	if commandError == "" {
		return ""
	}
	for _, m := range errtext.Explain(commandError) {
		if notTLS[m.ID] {
			continue
		}
		return fmt.Sprintf("TLS error (%s): run `%s` to find the cause and the fix", m.Title, m.Command)
	}
	return ""
}

// notTLS are errtext entries that are not TLS errors (a daemon that is not
// running, a dockerd configuration conflict) or too generic to say so (a
// connection closed with EOF): no hint for them.
var notTLS = map[string]bool{"cannot-connect": true, "daemon-directives-conflict": true, "eof": true}

func hooksCmd(dockerCli command.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hooks COMMAND",
		Short: "Show a docker tls doctor hint when docker pull/push/login/version/info fail with a TLS error",
		Long: wrapText("Docker CLI hooks run docker-tls after docker "+hookCommands+" (on a terminal). When the command failed "+
			"with a TLS error, the docker CLI prints a \"What's next\" line with the docker tls doctor command for that host.\n\n"+
			"enable sets features.hooks and plugins.tls.hooks in the docker CLI's config.json ($DOCKER_CONFIG/config.json); "+
			"disable removes plugins.tls.hooks. Every other setting is kept, and the old file is kept as config.json.bak-TIME.", helpWidth),
		Args: noArgs,
		RunE: showHelp,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "enable",
			Short: "Turn on docker CLI hooks for docker-tls in config.json",
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				p := filepath.Join(config.Dir(), config.ConfigFileName)
				changed, err := EditHooksConfig(p, true)
				if err != nil {
					return err
				}
				return reportHooks(cmd.OutOrStdout(), p, changed, "enabled: after a failed docker "+hookCommands+" with a TLS error, docker prints the docker tls doctor command to run")
			},
		},
		&cobra.Command{
			Use:   "disable",
			Short: "Remove docker-tls's hooks from config.json",
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				p := filepath.Join(config.Dir(), config.ConfigFileName)
				changed, err := EditHooksConfig(p, false)
				if err != nil {
					return err
				}
				return reportHooks(cmd.OutOrStdout(), p, changed, "disabled (features.hooks is left as it is: other plugins may use it)")
			},
		},
	)
	return cmd
}

func reportHooks(w io.Writer, p string, changed bool, what string) error {
	if !changed {
		what += "; " + p + " already said so, nothing written"
	} else {
		what += "; wrote " + p
	}
	_, err := fmt.Fprintln(w, "docker tls hooks "+what)
	return err
}

// EditHooksConfig turns docker-tls's hooks on or off in the config.json at
// p: on sets "features": {"hooks": "true"} and "plugins": {"tls": {"hooks":
// hookCommands}}; off deletes plugins.tls.hooks (and plugins.tls, plugins
// when they become empty). Every other key and its order is kept; the
// write is atomic, keeps the file's mode (0600 for a new file) and keeps
// the old file as p.bak-TIME. It reports whether the file changed.
func EditHooksConfig(p string, on bool) (bool, error) {
	data, err := os.ReadFile(p)
	mode := fs.FileMode(0o600)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !on {
			return false, nil
		}
		data = nil
	case err != nil:
		return false, asInputError(fmt.Errorf("cannot read %s: %w", p, err))
	default:
		if fi, err := os.Stat(p); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	root, err := daemoncfg.Parse(p, data)
	if err != nil {
		return false, asInputError(err)
	}
	plugins, err := subObject(root, "plugins", p)
	if err != nil {
		return false, err
	}
	tls, err := subObject(plugins, pluginName, p)
	if err != nil {
		return false, err
	}
	if on {
		features, err := subObject(root, "features", p)
		if err != nil {
			return false, err
		}
		features.Set("hooks", "true")
		tls.Set("hooks", hookCommands)
		setObject(root, "features", features)
		setObject(plugins, pluginName, tls)
		setObject(root, "plugins", plugins)
	} else {
		if _, ok := tls.Raw("hooks"); !ok {
			return false, nil
		}
		tls.Delete("hooks")
		if len(tls.Keys()) == 0 {
			plugins.Delete(pluginName)
		} else {
			setObject(plugins, pluginName, tls)
		}
		if len(plugins.Keys()) == 0 {
			root.Delete("plugins")
		} else {
			setObject(root, "plugins", plugins)
		}
	}
	out := root.Marshal()
	if string(out) == string(data) {
		return false, nil
	}
	res, err := fsutil.WriteFile(p, out, mode, true)
	if err != nil {
		return false, err
	}
	return res.Outcome != fsutil.Unchanged, nil
}

// subObject returns the object under key (empty when absent).
func subObject(o *daemoncfg.Object, key, file string) (*daemoncfg.Object, error) {
	raw, ok := o.Raw(key)
	if !ok || string(raw) == "null" {
		return daemoncfg.Parse(file, nil)
	}
	sub, err := daemoncfg.Parse(file, raw)
	if err != nil {
		return nil, inputError("%s: %q must be a JSON object: %v", file, key, err)
	}
	return sub, nil
}

func setObject(o *daemoncfg.Object, key string, sub *daemoncfg.Object) {
	o.Set(key, json.RawMessage(sub.Marshal()))
}
