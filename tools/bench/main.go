// Command bench prints Switchboard's performance figures (DESIGN section 10), each beside a baseline
// measured in the same run: the ICTCore HTTP path against a bare echo handler, and CSV import against
// direct bulk inserts. It asserts nothing; it prints. Each measurement runs in a child process (this
// binary re-executed with -child) so that every figure, peak RSS above all, starts from a clean process.
//
//	go run ./tools/bench            # full run
//	go run ./tools/bench -quick     # smoke run: 10k rows, 2k requests
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
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"switchboard/scratchdb"
)

// defaultPostgresURL is the development machine's Postgres (DESIGN section 9), as apitest uses it.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Targets from DESIGN section 10 and the bench brief, printed beside the figures, never enforced.
const (
	targetHTTPRatio = 0.30
	targetPGRows    = 50_000.0
	targetRSSMB     = 100.0
)

type config struct {
	rows     []int
	requests int
	warmup   int
	workers  int
	pgURL    string
	part     string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-child" {
		os.Exit(child(os.Args[2:]))
	}
	var (
		cfg   config
		quick = flag.Bool("quick", false, "smoke run: 10k rows, 2k requests (overrides -rows and -requests)")
		rows  = flag.String("rows", "100000,1000000", "comma-separated CSV import sizes")
	)
	flag.IntVar(&cfg.requests, "requests", 20000, "measured HTTP requests per handler, after the warm-up")
	flag.IntVar(&cfg.workers, "workers", 8, "concurrent HTTP client workers")
	flag.StringVar(&cfg.pgURL, "pg", envOr("TEST_DATABASE_URL", defaultPostgresURL), "Postgres server URL (the bench creates and drops its own database there)")
	flag.StringVar(&cfg.part, "part", "all", "what to run: all, http or csv")
	flag.Parse()
	var err error
	if cfg.rows, err = parseRows(*rows); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if *quick {
		cfg.rows, cfg.requests = []int{10_000}, 2_000
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

	stores := []string{"sqlite"}
	pgDSN, dropPG, err := createPostgres(ctx, cfg.pgURL)
	if err != nil {
		fmt.Printf("Postgres does not answer at %s (%v): Postgres rows skipped.\n\n", redact(cfg.pgURL), err)
	} else {
		defer dropPG()
		stores = append(stores, "postgres")
	}
	start := time.Now()
	fmt.Printf("switchboard bench: %d CPUs, GOMAXPROCS %d, %s, %s\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), time.Now().Format(time.RFC3339))

	if cfg.part == "all" || cfg.part == "http" {
		var res []httpResult
		for _, s := range stores {
			progress("http: %s", s)
			var r httpResult
			args := []string{"http", "-store", s, "-dsn", pgDSN, "-tmp", tmp,
				"-requests", strconv.Itoa(cfg.requests), "-warmup", strconv.Itoa(cfg.warmup), "-workers", strconv.Itoa(cfg.workers)}
			if err := runChild(ctx, args, &r); err != nil {
				return fmt.Errorf("http %s: %w", s, err)
			}
			res = append(res, r)
		}
		printHTTP(cfg, res)
	}

	if cfg.part == "all" || cfg.part == "csv" {
		var res []importResult
		for _, n := range cfg.rows {
			path := filepath.Join(tmp, fmt.Sprintf("contacts_%d.csv", n))
			progress("csv: writing %d rows to disk", n)
			if err := writeCSV(path, n); err != nil {
				return err
			}
			for _, s := range stores {
				// Baseline first, then the HTTP import, each in a fresh child on a fresh store.
				for _, mode := range []string{"direct", "http"} {
					progress("csv: %s %s %d rows", s, mode, n)
					var r importResult
					args := []string{"import", "-store", s, "-dsn", pgDSN, "-tmp", tmp, "-rows", strconv.Itoa(n), "-mode", mode, "-file", path}
					if err := runChild(ctx, args, &r); err != nil {
						return fmt.Errorf("import %s %s %d: %w", s, mode, n, err)
					}
					res = append(res, r)
				}
			}
			_ = os.Remove(path)
		}
		printImport(res)
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

func printHTTP(cfg config, res []httpResult) {
	fmt.Printf("HTTP  authenticated GET /ictcore/contacts/{id}: httptest server over loopback, keep-alive client,\n")
	fmt.Printf("      %d workers, %d requests after %d warm-up. full = echo + kin-openapi + auth + GORM (logger: text, discarded);\n", cfg.workers, cfg.requests, cfg.warmup)
	fmt.Printf("      bare = echo route answering the same %s of JSON, in the same process; bare and full alternate\n", byteSize(res))
	fmt.Printf("      in %d rounds and each figure pools its rounds.\n\n", httpRounds)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\thandler\treq/s\tp50\tp99\tfull/bare\ttarget\t")
	for _, r := range res {
		fmt.Fprintf(w, "%s\tbare\t%.0f\t%s\t%s\t\t\t\n", r.Store, r.Bare.RPS, dur(r.Bare.P50), dur(r.Bare.P99))
		ratio := r.Full.RPS / r.Bare.RPS
		fmt.Fprintf(w, "%s\tfull\t%.0f\t%s\t%s\t%.2f\t≥ %.2f %s\t\n", r.Store, r.Full.RPS, dur(r.Full.P50), dur(r.Full.P99), ratio, targetHTTPRatio, verdict(ratio >= targetHTTPRatio))
	}
	w.Flush()
	fmt.Println()
}

func printImport(res []importResult) {
	fmt.Printf("CSV   import into one group: http = POST /ictcore/groups/{id}/csv streamed from a file on disk through\n")
	fmt.Printf("      the full stack (client and server in the child); direct = models.ImportGroupContacts in one\n")
	fmt.Printf("      transaction, batches of %d, same rows. Each run is a fresh child on a fresh store; peak RSS is\n", batchSize)
	fmt.Printf("      the child's VmHWM (setup = VmHWM just before the import started).\n\n")
	type key struct {
		store string
		rows  int
	}
	direct := map[key]importResult{}
	for _, r := range res {
		if r.Mode == "direct" {
			direct[key{r.Store, r.Rows}] = r
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\trows\tfile MB\thttp rows/s\thttp time\thttp peak RSS\tsetup RSS\tdirect rows/s\tdirect time\tdirect peak RSS\thttp/direct\ttargets\t")
	peak := map[string][]importResult{}
	for _, r := range res {
		if r.Mode != "http" {
			continue
		}
		d := direct[key{r.Store, r.Rows}]
		peak[r.Store] = append(peak[r.Store], r)
		var t []string
		if r.Store == "postgres" {
			t = append(t, fmt.Sprintf("≥ %.0fk rows/s %s", targetPGRows/1000, verdict(r.RowsPerSec >= targetPGRows)))
		}
		if r.Rows >= 1_000_000 {
			t = append(t, fmt.Sprintf("RSS < %.0f MB %s", targetRSSMB, verdict(r.PeakRSSMB < targetRSSMB)))
		}
		fmt.Fprintf(w, "%s\t%d\t%.1f\t%.0f\t%s\t%.0f MB\t%.0f MB\t%.0f\t%s\t%.0f MB\t%.2f\t%s\t\n",
			r.Store, r.Rows, r.FileMB, r.RowsPerSec, secs(r.Seconds), r.PeakRSSMB, r.SetupRSSMB,
			d.RowsPerSec, secs(d.Seconds), d.PeakRSSMB, r.RowsPerSec/d.RowsPerSec, strings.Join(t, ", "))
	}
	w.Flush()
	printPages(res)
	// Flatness: peak RSS of the smallest against the largest size, per store.
	for _, s := range []string{"sqlite", "postgres"} {
		rs := peak[s]
		if len(rs) < 2 {
			continue
		}
		a, b := rs[0], rs[len(rs)-1]
		fmt.Printf("peak RSS %s: %d rows %.0f MB → %d rows %.0f MB (%+.0f MB for %.0f× the rows; target: flat)\n",
			s, a.Rows, a.PeakRSSMB, b.Rows, b.PeakRSSMB, b.PeakRSSMB-a.PeakRSSMB, float64(b.Rows)/float64(a.Rows))
	}
	fmt.Println()
}

func verdict(ok bool) string {
	if ok {
		return "(met)"
	}
	return "(NOT met)"
}

func byteSize(res []httpResult) string {
	if len(res) == 0 {
		return "?"
	}
	return fmt.Sprintf("%d bytes", res[0].BodyBytes)
}

func dur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
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

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// printPages shows list latency over the imported rows, each as a ratio to the first page of the same run.
func printPages(res []importResult) {
	fmt.Printf("\nLists over the imported rows (median of 11; offset pages also count the matches for X-Total-Count, keyset pages do not; ratio = time / first page):\n\n")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\trows\trequest\tms\tratio\t")
	for _, r := range res {
		if len(r.Pages) == 0 {
			continue
		}
		base := r.Pages[0].Ms
		for _, p := range r.Pages {
			fmt.Fprintf(w, "%s\t%d\t%s\t%.2f\t%.1f\t\n", r.Store, r.Rows, p.Name, p.Ms, p.Ms/base)
		}
	}
	w.Flush()
	fmt.Println()
}
