// Command bench prints Switchboard's performance figures (DESIGN section 10), each beside a baseline
// measured in the same run: the ICTCore HTTP path against a bare echo handler (and a CPU profile of where
// the difference goes), CSV import against psql's \copy of the same file, list pages against a keyset
// page, concurrent single-contact creates during a long import against the same creates with no
// import running, transmissions sent through the zero-latency simulator against a bare claim loop, and call
// events posted with every subscriber on against the same with none, and Collect!'s row read, filtered page and
// prompt sockets (issue 9) against ICTCore's contact read, the unfiltered page and one operator alone. It asserts nothing; it prints. Each measurement runs in a child process (this binary
// re-executed with -child) so that every figure, peak RSS above all, starts from a clean process.
//
//	go run ./tools/bench                    # full run
//	go run ./tools/bench -quick             # smoke run: 10k rows, 2k requests, short phases
//	go run ./tools/bench -part http,profile # some parts only (http, profile, csv, lists, writers, sends, campaign, pacing, prepare, share, events, sockets, collect)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"switchboard/scratchdb"
)

// defaultPostgresURL is the development machine's Postgres (DESIGN section 9), as apitest uses it.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Targets from DESIGN section 10 and the bench brief, printed beside the figures, never enforced.
const (
	targetHTTPRatio  = 0.35  // full/bare req/s, both stores
	targetCopyRatio  = 0.8   // Postgres: HTTP import rows/s ÷ psql \copy rows/s
	targetRSSMB      = 100.0 // peak RSS of the importing process
	targetListRatio  = 3.0   // first page (no count) ÷ deep keyset page, at 1M rows
	targetWriters5xx = 0     // 5xx answers to creates during an import
)

// parts is every -part value, in the order they run.
var parts = []string{"http", "profile", "csv", "lists", "writers", "sends", "campaign", "pacing", "prepare", "share", "events", "sockets", "collect"}

type config struct {
	rows     []int
	requests int
	warmup   int
	workers  int
	pgURL    string
	stores   string
	parts    map[string]bool
	// profile: seconds of load per handler under the CPU profiler; where the profiles are kept.
	profileSecs float64
	profileDir  string
	// writers: concurrent create workers, seconds of creates with no import (before and after it), rows
	// imported meanwhile.
	writers     int
	writersIdle float64
	writersRows int
	// sends: transmissions sent, goroutines sending; campaign: its contacts.
	sends, senders, campaign int
	// share: the campaign's contacts, queue workers per node.
	share, shareWorkers int
	// collect: debtors seeded, operator WebSockets each running a plan at once.
	collectRows, collectConns int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-child" {
		os.Exit(child(os.Args[2:]))
	}
	var (
		cfg   config
		quick = flag.Bool("quick", false, "smoke run: 10k rows, 2k requests, 2 s profiles, 1 s idle phases, 2k sends, a 5k campaign, 10k debtors and 100 plan sockets (overrides -rows, -requests, -profile-secs, -writers-idle, -writers-rows, -sends, -campaign, -collect-rows, -collect-conns)")
		rows  = flag.String("rows", "100000,1000000", "comma-separated sizes: CSV imports (csv, lists) and campaign groups (prepare)")
		part  = flag.String("part", "all", "what to run: all, or a comma-separated list of "+strings.Join(parts, ", "))
	)
	flag.IntVar(&cfg.requests, "requests", 20000, "measured HTTP requests per handler, after the warm-up")
	flag.IntVar(&cfg.workers, "workers", 8, "concurrent HTTP client workers (http, profile)")
	flag.StringVar(&cfg.pgURL, "pg", envOr("TEST_DATABASE_URL", defaultPostgresURL), "Postgres server URL (the bench creates and drops its own database there)")
	flag.Float64Var(&cfg.profileSecs, "profile-secs", 8, "profile: seconds of load per handler under the CPU profiler")
	flag.StringVar(&cfg.profileDir, "profile-dir", "", "profile: directory that keeps the CPU profiles (default: a new directory under the system's temp dir)")
	flag.StringVar(&cfg.stores, "stores", "sqlite,postgres", "stores to measure (Postgres is skipped when it does not answer)")
	flag.IntVar(&cfg.writers, "writers", 4, "writers: concurrent workers creating contacts in a loop")
	flag.Float64Var(&cfg.writersIdle, "writers-idle", 5, "writers: seconds of creates with no import, before and after it")
	flag.IntVar(&cfg.writersRows, "writers-rows", 1_000_000, "writers: rows imported while the creates run")
	flag.IntVar(&cfg.sends, "sends", 20_000, "sends: transmissions sent")
	flag.IntVar(&cfg.senders, "senders", 64, "sends: goroutines sending (concurrent API clients; concurrent sends share a transaction)")
	flag.IntVar(&cfg.campaign, "campaign", 100_000, "campaign: contacts of the campaign")
	flag.IntVar(&cfg.share, "share", 20_000, "share: contacts of the campaign one node and then two run")
	flag.IntVar(&cfg.shareWorkers, "share-workers", 2, "share: queue workers per node")
	flag.IntVar(&cfg.collectRows, "collect-rows", 100_000, "collect: debtors seeded (row read and pages)")
	flag.IntVar(&cfg.collectConns, "collect-conns", 1_000, "collect: operator WebSockets, each answering a two-prompt plan, all started at once")
	flag.Parse()
	var err error
	if cfg.rows, err = parseRows(*rows); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if cfg.parts, err = parseParts(*part); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if *quick {
		cfg.rows, cfg.requests = []int{10_000}, 2_000
		cfg.profileSecs, cfg.writersIdle, cfg.writersRows = 2, 1, 10_000
		cfg.sends = 2_000
		cfg.campaign = 5_000
		cfg.share = 2_000
		cfg.collectRows, cfg.collectConns = 10_000, 100
	}
	cfg.warmup = max(cfg.requests/10, 100)
	// Interrupts cancel the children and still drop the bench database.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	tmp, err := os.MkdirTemp("", "sb-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var stores []string
	want := strings.Split(cfg.stores, ",")
	if slices.Contains(want, "sqlite") {
		stores = append(stores, "sqlite")
	}
	var pgDSN string
	if slices.Contains(want, "postgres") {
		dsn, dropPG, err := createPostgres(ctx, cfg.pgURL)
		if err != nil {
			fmt.Printf("Postgres does not answer at %s (%v): Postgres rows skipped.\n\n", redact(cfg.pgURL), err)
		} else {
			defer dropPG()
			pgDSN = dsn
			stores = append(stores, "postgres")
		}
	}
	if len(stores) == 0 {
		return fmt.Errorf("-stores %q: no store to measure (want sqlite, postgres or both)", cfg.stores)
	}
	start := time.Now()
	fmt.Printf("switchboard bench: %d CPUs, GOMAXPROCS %d, %s, %s, load average %s\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), time.Now().Format(time.RFC3339), loadAvg())
	common := func(kind, store string) []string {
		return []string{kind, "-store", store, "-dsn", pgDSN, "-tmp", tmp}
	}

	if cfg.parts["http"] {
		var res []httpResult
		for _, s := range stores {
			progress("http: %s", s)
			var r httpResult
			args := append(common("http", s), "-requests", strconv.Itoa(cfg.requests), "-warmup", strconv.Itoa(cfg.warmup), "-workers", strconv.Itoa(cfg.workers))
			if err := runChild(ctx, args, &r); err != nil {
				return fmt.Errorf("http %s: %w", s, err)
			}
			res = append(res, r)
		}
		printHTTP(cfg, res)
	}

	if cfg.parts["profile"] {
		dir := cfg.profileDir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "sb-bench-profiles-"); err != nil {
				return err
			}
		} else if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		var res []profileResult
		for _, s := range stores {
			progress("profile: %s", s)
			var r profileResult
			args := append(common("profile", s), "-warmup", strconv.Itoa(cfg.warmup), "-workers", strconv.Itoa(cfg.workers),
				"-secs", strconv.FormatFloat(cfg.profileSecs, 'f', -1, 64), "-profile-dir", dir)
			if err := runChild(ctx, args, &r); err != nil {
				return fmt.Errorf("profile %s: %w", s, err)
			}
			res = append(res, r)
		}
		if err := printProfiles(cfg, dir, res); err != nil {
			return err
		}
	}

	if cfg.parts["csv"] || cfg.parts["lists"] {
		// csv: the psql \copy baseline (Postgres; before and after the others, pooled, so drift on a shared
		// machine falls on both sides), the direct store path and the HTTP import, with list pages measured
		// after the HTTP import; lists alone: the HTTP import and its list pages only.
		modes := []string{"copy", "direct", "http", "copy"}
		if !cfg.parts["csv"] {
			modes = []string{"http"}
		}
		var res []importResult
		for _, n := range cfg.rows {
			path := filepath.Join(tmp, fmt.Sprintf("contacts_%d.csv", n))
			progress("csv: writing %d rows to disk", n)
			if err := writeCSV(path, n); err != nil {
				return err
			}
			for _, s := range stores {
				for _, mode := range modes {
					if mode == "copy" && s != "postgres" {
						continue
					}
					progress("csv: %s %s %d rows", s, mode, n)
					var r importResult
					args := append(common("import", s), "-rows", strconv.Itoa(n), "-mode", mode, "-file", path)
					if err := runChild(ctx, args, &r); err != nil {
						return fmt.Errorf("import %s %s %d: %w", s, mode, n, err)
					}
					res = append(res, r)
				}
			}
			_ = os.Remove(path)
		}
		if cfg.parts["csv"] {
			printImport(res)
		}
		printPages(res)
	}

	if cfg.parts["writers"] {
		n := cfg.writersRows
		path := filepath.Join(tmp, fmt.Sprintf("writers_%d.csv", n))
		progress("writers: writing %d rows to disk", n)
		if err := writeCSV(path, n); err != nil {
			return err
		}
		var res []writersResult
		for _, s := range stores {
			progress("writers: %s, %d workers, import of %d rows", s, cfg.writers, n)
			var r writersResult
			args := append(common("writers", s), "-rows", strconv.Itoa(n), "-file", path, "-workers", strconv.Itoa(cfg.writers),
				"-secs", strconv.FormatFloat(cfg.writersIdle, 'f', -1, 64))
			if err := runChild(ctx, args, &r); err != nil {
				return fmt.Errorf("writers %s: %w", s, err)
			}
			res = append(res, r)
		}
		_ = os.Remove(path)
		printWriters(cfg, res)
	}
	if cfg.parts["sends"] {
		var res []sendsResult
		for _, s := range stores {
			progress("sends: %s, %d transmissions, %d senders", s, cfg.sends, cfg.senders)
			var r sendsResult
			args := append(common("sends", s), "-rows", strconv.Itoa(cfg.sends), "-workers", strconv.Itoa(cfg.senders))
			if err := runChild(ctx, args, &r); err != nil {
				return fmt.Errorf("sends %s: %w", s, err)
			}
			res = append(res, r)
		}
		printSends(res)
	}
	if cfg.parts["campaign"] {
		var res []campaignResult
		for _, s := range stores {
			progress("campaign: %s, %d contacts", s, cfg.campaign)
			var r campaignResult
			if err := runChild(ctx, append(common("campaign", s), "-rows", strconv.Itoa(cfg.campaign)), &r); err != nil {
				return fmt.Errorf("campaign %s: %w", s, err)
			}
			res = append(res, r)
		}
		printCampaign(res)
	}
	if cfg.parts["pacing"] {
		var res []pacingResult
		for _, s := range stores {
			progress("pacing: %s, cpm %d for %s", s, pacingCpm, pacingFor)
			var r pacingResult
			if err := runChild(ctx, common("pacing", s), &r); err != nil {
				return fmt.Errorf("pacing %s: %w", s, err)
			}
			res = append(res, r)
		}
		printPacing(res)
	}
	if cfg.parts["prepare"] {
		var res []prepareResult
		for _, s := range stores {
			for _, n := range cfg.rows {
				progress("prepare: %s, %d contacts", s, n)
				var r prepareResult
				if err := runChild(ctx, append(common("prepare", s), "-rows", strconv.Itoa(n)), &r); err != nil {
					return fmt.Errorf("prepare %s: %w", s, err)
				}
				res = append(res, r)
			}
		}
		printPrepare(res)
	}
	if cfg.parts["share"] {
		if pgDSN == "" {
			fmt.Printf("SHARE needs Postgres: skipped.\n\n")
		} else {
			progress("share: postgres, %d contacts, one node then two, %d workers each", cfg.share, cfg.shareWorkers)
			r, err := benchShare(ctx, pgDSN, tmp, cfg.share, cfg.shareWorkers)
			if err != nil {
				return fmt.Errorf("share: %w", err)
			}
			printShare(r)
		}
	}
	if cfg.parts["events"] {
		if err := runEvents(ctx, cfg, stores, common); err != nil {
			return err
		}
	}
	if cfg.parts["sockets"] {
		if err := runSockets(ctx, stores, common); err != nil {
			return err
		}
	}
	if cfg.parts["collect"] {
		if err := runCollect(ctx, cfg, stores, common); err != nil {
			return err
		}
	}
	fmt.Printf("total bench time %s\n", time.Since(start).Round(time.Second))
	return nil
}

// runChild re-executes this binary with -child and decodes the JSON line it prints last.
func runChild(ctx context.Context, args []string, out any) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{"-child"}, args...)...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return json.Unmarshal([]byte(lines[len(lines)-1]), out)
}

// createPostgres makes the run's own database, so nothing else on the server is touched, and answers
// its URL and the function that drops it (also after an interrupt).
func createPostgres(ctx context.Context, root string) (string, func(), error) {
	dbURL, drop, err := scratchdb.CreateDatabase(ctx, root, "sb_bench_")
	if err != nil {
		return "", nil, err
	}
	return dbURL, func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: drop database:", err)
		}
	}, nil
}

func verdict(ok bool) string {
	if ok {
		return "(met)"
	}
	return "(NOT met)"
}

func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func secs(s float64) string { return fmt.Sprintf("%.1fs", s) }

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func parseRows(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-rows: bad size %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseParts(s string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "all":
			for _, q := range parts {
				out[q] = true
			}
		case slices.Contains(parts, p):
			out[p] = true
		default:
			return nil, fmt.Errorf("-part: unknown part %q (want all or %s)", p, strings.Join(parts, ", "))
		}
	}
	return out, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// loadAvg is the machine's 1, 5 and 15-minute load average: other work on a shared machine shows there.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
