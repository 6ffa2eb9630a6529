package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/docker/cli/cli"
	"github.com/spf13/cobra"
)

// Exit codes, documented in README and --help.
const (
	exitFindings = 1 // findings at or above --fail-on
	exitUsage    = 2 // usage or input error
	exitFailure  = 3 // the tool itself failed
)

// usageError formats err like the docker CLI's usage errors and exits 2.
func usageError(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	return cli.StatusError{
		Status:     fmt.Sprintf("%s\n\nUsage:  %s\n\nRun '%s --help' for more information", err, cmd.UseLine(), cmd.CommandPath()),
		StatusCode: exitUsage,
	}
}

// inputError is bad input from the user (a file, a value): exit 2.
func inputError(format string, a ...any) error {
	return cli.StatusError{Status: fmt.Sprintf(format, a...), StatusCode: exitUsage}
}

// asInputError marks an error about user input (exit 2), keeping its text.
func asInputError(err error) error {
	if err == nil {
		return nil
	}
	return cli.StatusError{Cause: err, StatusCode: exitUsage}
}

func binName(cmd *cobra.Command) string {
	return strings.Fields(cmd.Root().Use)[0]
}

// noArgs rejects stray arguments and unknown subcommands with the docker
// CLI's usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return cli.StatusError{
			Status: fmt.Sprintf("%s: unknown command: %s %s\n\nUsage:  %s\n\nRun '%s --help' for more information",
				binName(cmd), cmd.CommandPath(), args[0], cmd.UseLine(), cmd.CommandPath()),
			StatusCode: exitUsage,
		}
	}
	return usageError(cmd, fmt.Errorf("%s: '%s' accepts no arguments", binName(cmd), cmd.CommandPath()))
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		return usageError(cmd, fmt.Errorf("%s: '%s' requires exactly %d %s", binName(cmd), cmd.CommandPath(), n, plural("argument", n)))
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= n {
			return nil
		}
		return usageError(cmd, fmt.Errorf("%s: '%s' requires at least %d %s", binName(cmd), cmd.CommandPath(), n, plural("argument", n)))
	}
}

func plural(w string, n int) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

// groupCmd is a command that only groups subcommands: it shows its help,
// and rejects unknown subcommands and stray arguments like docker does.
func groupCmd(name, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: name + " COMMAND", Short: short, Args: noArgs, RunE: showHelp}
	cmd.AddCommand(subs...)
	return cmd
}

func showHelp(cmd *cobra.Command, _ []string) error {
	cmd.SetOut(cmd.OutOrStdout())
	return cmd.Help()
}

// setUsageErrors makes flag errors usage errors (exit 2) on the whole tree,
// and any other error that is not already a status (exit 1 or 2) a failure
// of the tool itself (exit 3).
func setUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(usageError)
	if run := root.RunE; run != nil {
		root.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			var st cli.StatusError
			if err == nil || errors.As(err, &st) {
				return err
			}
			return cli.StatusError{Cause: err, StatusCode: exitFailure}
		}
	}
	for _, c := range root.Commands() {
		setUsageErrors(c)
	}
}
