package registry

import (
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const hd = "certs.d/reg.example:5000/"

func f(m string) entry   { return entry{data: mat[m]} }
func raw(s string) entry { return entry{data: []byte(s)} }

// classes are the curated trees: moby's certs.d edge cases and every class
// listed in issue 11.
func classes() map[string]tree {
	return map[string]tree{
		"no directory":               {"certs.d/other/ca.crt": f("ca")},
		"ca only":                    {hd + "ca.crt": f("ca")},
		"ca and client pair":         {hd + "ca.crt": f("ca"), hd + "client.cert": f("client"), hd + "client.key": f("clientkey")},
		"client pair only":           {hd + "client.cert": f("client"), hd + "client.key": f("clientkey")},
		"cert without key":           {hd + "ca.cert": f("ca")},
		"combined cert without key":  {hd + "client.cert": f("combined")},
		"key without cert":           {hd + "client.key": f("clientkey")},
		"cert with wrong key":        {hd + "client.cert": f("client"), hd + "client.key": f("otherkey")},
		"cert and key swapped":       {hd + "client.cert": f("clientkey"), hd + "client.key": f("client")},
		"ca.pem ignored":             {hd + "ca.pem": f("ca")},
		"crt backup":                 {hd + "ca.crt.bak": f("ca"), hd + "ca.crt": f("ca2")},
		"bundle":                     {hd + "ca.crt": f("bundle")},
		"registry leaf pinned":       {hd + "reg.crt": f("leaf")},
		"empty crt beside good ca":   {hd + "ca.crt": f("ca"), hd + "empty.crt": f("empty")},
		"empty crt sorted first":     {hd + "a.crt": f("empty"), hd + "ca.crt": f("ca")},
		"garbage crt":                {hd + "ca.crt": f("garbage")},
		"self-signed CA client cert": {hd + "ca.crt": f("ca"), hd + "client.cert": f("selfclient"), hd + "client.key": f("selfclientkey")},
		"domain pair (serverAuth)":   {hd + "domain.crt": f("leaf"), hd + "domain.key": f("leafkey")},
		"domain pair as cert":        {hd + "domain.cert": f("leaf"), hd + "domain.key": f("leafkey"), hd + "ca.crt": f("ca")},
		"trusted certificate ca":     {hd + "ca.crt": f("trusted")},
		"der ca":                     {hd + "ca.crt": f("der")},
		"pem headers ca":             {hd + "ca.crt": f("headers")},
		"unparsable certificate":     {hd + "ca.crt": f("badder")},
		"stray key matching CA":      {hd + "ca.crt": f("ca"), hd + "ca.key": f("cakey")},
		"crt is a directory":         {hd + "ca.crt/": entry{dir: true}, hd + "ca.crt/x": f("ca")},
		"key is a directory":         {hd + "client.cert": f("client"), hd + "client.key/x": f("clientkey")},
		"dangling crt symlink":       {hd + "ca.crt": entry{symlink: "/nonexistent/ca.crt"}, hd + "z.crt": f("ca")},
		"symlinked ca":               {"shared/ca.pem": f("ca"), hd + "ca.crt": entry{symlink: "../../shared/ca.pem"}},
		"subdirectory ignored":       {hd + "sub/ca.crt": f("ca"), hd + "ca.crt": f("ca2")},
		"host dir is a file":         {"certs.d/reg.example:5000": f("ca")},
		"dotfile crt":                {hd + ".crt": f("ca")},
		"dotfile cert":               {hd + ".cert": f("client"), hd + ".key": f("clientkey")},
		"two pairs":                  {hd + "a.cert": f("client"), hd + "a.key": f("clientkey"), hd + "b.cert": f("selfclient"), hd + "b.key": f("selfclientkey")},
		"encrypted-looking key":      {hd + "client.cert": f("client"), hd + "client.key": f("headers")},
		// hosts.toml classes (containerd; moby ignores hosts.toml)
		"hosts.toml references ca.pem and pair": {
			hd + "hosts.toml": raw("server = \"https://reg.example:5000\"\n[host.\"https://reg.example:5000\"]\n  ca = \"ca.pem\"\n  client = [[\"cert.pem\", \"key.pem\"]]\n"),
			hd + "ca.pem":     f("ca"), hd + "cert.pem": f("client"), hd + "key.pem": f("clientkey"),
		},
		"hosts.toml shared ../ ca": {
			"certs.d/shared/ca.pem": f("ca"),
			hd + "hosts.toml":       raw("[host.\"https://reg.example:5000\"]\n  ca = \"../shared/ca.pem\"\n"),
		},
		"hosts.toml empty key in pair": {
			hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  client = [[\"client.pem\", \"\"]]\n"),
			hd + "client.pem": f("combined"),
		},
		"hosts.toml combined client string": {
			hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  client = \"client.pem\"\n"),
			hd + "client.pem": f("combined"),
		},
		"hosts.toml unknown capability": {
			hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  capabilities = [\"pull\", \"fetch\"]\n  ca = \"ca.pem\"\n"),
			hd + "ca.pem":     f("ca"), hd + "ca.crt": f("ca2"),
		},
		"hosts.toml duration without unit": {
			hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  dial_timeout = \"5\"\n"),
		},
		"hosts.toml skip_verify string": {
			hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  skip_verify = \"true\"\n"),
			hd + "ca.crt":     f("ca"),
		},
		"hosts.toml one-element pair": {
			hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  client = [[\"client.pem\"]]\n"),
		},
		"hosts.toml header wrong type": {
			hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  header = { x-a = 1 }\n"),
		},
		"hosts.toml ca.crt unreferenced": {
			hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  capabilities = [\"pull\", \"resolve\"]\n"),
			hd + "ca.crt":     f("ca"),
		},
		"hosts.toml without host table": {
			hd + "hosts.toml": raw("server = \"https://reg.example:5000\"\nca = \"ca.pem\"\n"),
			hd + "ca.pem":     f("ca"),
		},
		"hosts.toml inline host table": {
			hd + "hosts.toml": raw("host = { \"https://mirror.example\" = { ca = \"ca.pem\" } }\n"),
			hd + "ca.pem":     f("ca"),
		},
		"hosts.toml dotted host key": {
			hd + "hosts.toml": raw("host.\"https://mirror.example\".ca = \"ca.pem\"\n"),
			hd + "ca.pem":     f("ca"),
		},
		"hosts.toml unicode escape": {
			hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  ca = \"c\\u0061.pem\"\n"),
			hd + "ca.pem":     f("ca"),
		},
		"hosts.toml multiline string and datetime": {
			hd + "hosts.toml": raw("when = 1979-05-27T07:32:00Z\n[host.\"https://reg.example:5000\"]\n  ca = '''ca.pem'''\n"),
			hd + "ca.pem":     f("ca"),
		},
		"hosts.toml syntax error falls back": {
			hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"\n ca = \n"),
			hd + "ca.crt":     f("ca"),
		},
		"hosts.toml empty falls back": {hd + "hosts.toml": raw(""), hd + "ca.crt": f("ca")},
		"hosts.toml garbage ca":       {hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  ca = \"ca.pem\"\n"), hd + "ca.pem": f("trusted")},
		"hosts.toml missing ca":       {hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  ca = [\"ca.pem\", \"missing.pem\"]\n"), hd + "ca.pem": f("ca")},
		"hosts.toml ca int":           {hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  ca = 5\n")},
		"hosts.toml ca array of int":  {hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  ca = [5]\n")},
		"hosts.toml client int":       {hd + "hosts.toml": raw("[host.\"https://reg.example:5000\"]\n  client = [5]\n")},
		"hosts.toml header subtable repeated host": {
			hd + "hosts.toml": raw("[host.\"https://a.example\"]\n[host.\"https://b.example\"]\n[host.\"https://a.example\".header]\n  x = \"y\"\n"),
		},
		"hosts.toml is a directory": {hd + "hosts.toml/x": f("ca")},
		"containerd dir name":       {"certs.d/reg.example_5000_/ca.crt": f("ca"), hd + "ca.crt": f("ca2")},
		"_default dir":              {"certs.d/_default/ca.crt": f("ca")},
		"fallback cert without key": {hd + "client.cert": f("client")},
		"fallback lone key":         {hd + "client.key": f("clientkey"), hd + "ca.crt": f("ca")},
	}
}

func TestClasses(t *testing.T) {
	materials(t)
	for name, tr := range classes() {
		allLoaders(t, name, tr)
	}
	// containerd's own host defaults.
	for _, h := range []string{"localhost:5000", "localhost", "127.0.0.1:80", "docker.io", "[::1]:5000"} {
		containerdCase(t, "defaults "+h, tree{"certs.d/x/ca.crt": f("ca")}, "certs.d", h)
	}
	containerdCase(t, "localhost with ca", tree{"certs.d/localhost_5000_/ca.crt": f("ca")}, "certs.d", "localhost:5000")
}

func moduleDir(t *testing.T, mod string) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("go list -m %s: %v", mod, err)
	}
	return strings.TrimSpace(string(out))
}

// upstreamTOML returns every hosts.toml example in containerd's
// docs/hosts.md (```toml blocks) and the TOML string literals of
// core/remotes/docker/config/hosts_test.go, read from the module cache.
func upstreamTOML(t *testing.T) map[string]string {
	dir := moduleDir(t, "github.com/containerd/containerd/v2")
	out := map[string]string{}
	md, err := os.ReadFile(filepath.Join(dir, "docs", "hosts.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)```toml\n(.*?)```")
	for i, m := range re.FindAllSubmatch(md, -1) {
		out["docs/hosts.md #"+strconv.Itoa(i+1)] = string(m[1])
	}
	fset := token.NewFileSet()
	src := filepath.Join(dir, "core", "remotes", "docker", "config", "hosts_test.go")
	file, err := parser.ParseFile(fset, src, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(file, func(n ast.Node) bool {
		if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			s, err := strconv.Unquote(bl.Value)
			if err == nil && (strings.Contains(s, "[host") || strings.Contains(s, "server =") || strings.Contains(s, "server=")) {
				out["hosts_test.go:"+strconv.Itoa(fset.Position(bl.Pos()).Line)] = s
			}
		}
		return true
	})
	if len(out) < 10 {
		t.Fatalf("only %d upstream hosts.toml examples found", len(out))
	}
	return out
}

var pathLit = regexp.MustCompile(`"([^"\n]*\.(pem|crt|cert|key))"`)

// localise rewrites the example's certificate paths to files in the host
// directory and creates them, so loading (not only decoding) is compared.
func localise(s string) (string, tree) {
	tr := tree{}
	s = pathLit.ReplaceAllStringFunc(s, func(q string) string {
		p := strings.Trim(q, `"`)
		base := filepath.Base(p)
		m := "ca"
		switch {
		case strings.HasSuffix(base, ".key"):
			m = "clientkey"
		case strings.Contains(base, "client") && strings.HasSuffix(base, ".pem"):
			m = "combined"
		case strings.HasSuffix(base, ".cert"):
			m = "client"
		}
		tr[hd+base] = f(m)
		return `"` + base + `"`
	})
	tr[hd+"hosts.toml"] = raw(s)
	return s, tr
}

func TestContainerdExamples(t *testing.T) {
	materials(t)
	for name, s := range upstreamTOML(t) {
		containerdCase(t, name, tree{hd + "hosts.toml": raw(s)}, "certs.d", "reg.example:5000")
		_, tr := localise(s)
		containerdCase(t, name+" (paths localised)", tr, "certs.d", "reg.example:5000")
	}
}

// Generated trees: names, contents and hosts.toml fragments drawn from
// lists of the shapes users produce.
var (
	genNames = []string{"ca.crt", "a.crt", "z.crt", "ca.pem", "ca.cert", "client.cert", "client.key",
		"domain.crt", "domain.key", "domain.cert", "b.cert", "b.key", "ca.key", "README", "cert.pem", "key.pem", "client.pem"}
	genTOML = []string{
		"server = \"https://reg.example:5000\"\n",
		"server = \"http://reg.example:5000\"\n",
		"ca = \"ca.pem\"\n",
		"skip_verify = true\n",
		"skip_verify = \"true\"\n",
		"capabilities = [\"pull\", \"resolve\"]\n",
		"capabilities = [\"pull\", \"Fetch\"]\n",
		"capabilities = \"pull\"\n",
		"[host.\"https://reg.example:5000\"]\n",
		"[host.\"https://mirror.example/path\"]\n",
		"[host.\"http://reg.example:5000\"]\n",
		"[host.\"reg.example:5000\"]\n",
		"  ca = \"ca.pem\"\n",
		"  ca = [\"ca.pem\", \"ca.crt\"]\n",
		"  ca = [\"/nonexistent/ca.pem\"]\n",
		"  ca = 1\n",
		"  ca = []\n",
		"  client = [[\"cert.pem\", \"key.pem\"]]\n",
		"  client = [[\"client.cert\", \"client.key\"], \"client.pem\"]\n",
		"  client = [[\"cert.pem\", \"\"]]\n",
		"  client = \"client.pem\"\n",
		"  client = [[\"cert.pem\"]]\n",
		"  client = [1]\n",
		"  client = []\n",
		"  dial_timeout = \"5s\"\n",
		"  dial_timeout = \"5\"\n",
		"  dial_timeout = 5\n",
		"  override_path = true\n",
		"  header = { x-a = \"b\", x-c = [\"d\", \"e\"] }\n",
		"  header = { x-a = 1 }\n",
		"  [host.\"https://reg.example:5000\".header]\n  x-y = \"z\"\n",
		"host = { \"https://inline.example\" = { ca = \"ca.pem\" } }\n",
		"host.\"https://dotted.example\".ca = \"ca.pem\"\n",
		"[[host]]\n",
		"= broken\n",
	}
)

func genTree(r *rand.Rand) tree {
	m := materials(nil)
	tr := tree{}
	dirs := []string{"certs.d/reg.example:5000/", "certs.d/reg.example_5000_/", "certs.d/_default/"}
	dir := dirs[0]
	if r.Intn(5) == 0 {
		dir = dirs[r.Intn(len(dirs))]
	}
	n := r.Intn(6)
	for i := 0; i < n; i++ {
		name := genNames[r.Intn(len(genNames))]
		tr[dir+name] = entry{data: m[matKeys[r.Intn(len(matKeys))]]}
	}
	if r.Intn(2) == 0 {
		var b strings.Builder
		k := r.Intn(7)
		for i := 0; i < k; i++ {
			b.WriteString(genTOML[r.Intn(len(genTOML))])
		}
		tr[dir+"hosts.toml"] = raw(b.String())
	}
	if len(tr) == 0 {
		tr[dir+"README"] = raw("x")
	}
	return tr
}

// TestGenerated compares the loaders and the models on a fixed number of
// generated trees (fixed seed, so a failure reproduces).
func TestGenerated(t *testing.T) {
	materials(t)
	n := 300
	if s := os.Getenv("ORACLE_TREES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	r := rand.New(rand.NewSource(11))
	for i := 0; i < n; i++ {
		allLoaders(t, "generated #"+strconv.Itoa(i), genTree(r))
	}
}

// FuzzTree lets the fuzzer pick the generator's choices.
func FuzzTree(f *testing.F) {
	materials(f)
	for i := int64(0); i < 8; i++ {
		f.Add(i)
	}
	f.Fuzz(func(t *testing.T, seed int64) {
		allLoaders(t, "fuzz seed "+strconv.FormatInt(seed, 10), genTree(rand.New(rand.NewSource(seed))))
	})
}
