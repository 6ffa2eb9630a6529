package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/docker-tls/docker-tls/doctor/errtext"
	"github.com/docker/cli/cli"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

type explainOptions struct {
	format string
}

func explainCmd(dockerCli command.Cli) *cobra.Command {
	var o explainOptions
	cmd := &cobra.Command{
		Use:   "explain [OPTIONS] ERROR TEXT… | -",
		Short: "Explain a Docker or Go TLS error message",
		Long: `Paste a TLS error from docker, dockerd's log, containerd, buildx or a CI log
(or "-" to read it from standard input; unquoted words are joined with
spaces) and get the likely causes, most
likely first, what to check, and the doctor command that confirms it.

Exit status: 0 when the text was recognised, 1 when it was not.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(cmd.Context(), dockerCli, &o, strings.Join(args, " "))
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "text", "Output format: text or json")
	return cmd
}

type explainJSON struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Matched  string   `json:"matched"`
	Causes   []string `json:"causes"`
	Check    []string `json:"check"`
	Host     string   `json:"host,omitempty"`
	Registry bool     `json:"registry"`
	Command  string   `json:"command"`
}

func runExplain(_ context.Context, dockerCli command.Cli, o *explainOptions, text string) error {
	if o.format != "text" && o.format != "json" {
		return inputError("--format %q: expected text or json", o.format)
	}
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(dockerCli.In(), 1<<20))
		if err != nil {
			return inputError("reading the error text from standard input: %v", err)
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "" {
		return inputError("no error text given: pass it as an argument, or - to read standard input")
	}
	matches := errtext.Explain(text)
	w := dockerCli.Out()
	if o.format == "json" {
		out := make([]explainJSON, 0, len(matches))
		for _, m := range matches {
			out = append(out, explainJSON{ID: m.ID, Title: m.Title, Matched: m.Matched, Causes: m.Causes, Check: m.Check, Host: m.Host, Registry: m.Registry, Command: m.Command})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // error texts hold <host> and -> literally
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else if len(matches) > 0 {
		fmt.Fprint(w, errtext.Render(matches))
	}
	if len(matches) == 0 {
		return cli.StatusError{Status: "no known Docker or Go TLS error found in the text; run 'docker tls doctor' to check this machine's TLS setup", StatusCode: exitFindings}
	}
	return nil
}
