package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// profileResult is one store's CPU profiles: the bare handler, then the full path, each under the same
// load for the same time, each with the CPU time the process (and Postgres's backends) spent.
type profileResult struct {
	Store      string
	Bare, Full profPhase
}

type profPhase struct {
	Requests   int
	Seconds    float64 // wall time under load
	CPUSeconds float64 // this process (server and load generator), from getrusage
	PGSeconds  float64 // the Postgres backends of the bench database, from /proc (0 on SQLite)
	File       string  // the CPU profile
}

// benchProfile runs the bare handler, then the full path, for d each under the CPU profiler, after the
// same warm-up the HTTP comparison uses. The profile covers the whole child: the load generator's share is
// the same per request for both handlers, and the breakdown shows it apart.
func benchProfile(ctx context.Context, st *store, warmup, workers int, d time.Duration, dir string) (*profileResult, error) {
	p, err := newHTTPPair(ctx, st.db)
	if err != nil {
		return nil, err
	}
	defer p.close()
	bl, fl := newLoader(p.bare.URL+p.path, p.token, workers), newLoader(p.full.URL+p.path, p.token, workers)
	defer bl.close()
	defer fl.close()
	for _, l := range []*loader{bl, fl} {
		if err := l.burst(warmup, false); err != nil {
			return nil, err
		}
	}
	res := &profileResult{Store: st.kind}
	for _, ph := range []struct {
		name string
		l    *loader
		out  *profPhase
	}{{"bare", bl, &res.Bare}, {"full", fl, &res.Full}} {
		runtime.GC()
		file := filepath.Join(dir, fmt.Sprintf("%s-%s.pprof", st.kind, ph.name))
		f, err := os.Create(file)
		if err != nil {
			return nil, err
		}
		pg0 := postgresCPU(ctx, st)
		cpu0 := selfCPU()
		start := time.Now()
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		n, err := ph.l.burstFor(d)
		pprof.StopCPUProfile()
		el := time.Since(start)
		cpu := selfCPU() - cpu0
		pg := postgresCPU(ctx, st) - pg0
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		*ph.out = profPhase{Requests: n, Seconds: el.Seconds(), CPUSeconds: cpu.Seconds(), PGSeconds: pg.Seconds(), File: file}
	}
	return res, nil
}

// selfCPU is the CPU time (user and system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the CPU time used so far by the Postgres backends connected to the store's database
// (the server's pool, on this machine), read from /proc; 0 on SQLite or where /proc does not show them.
func postgresCPU(ctx context.Context, st *store) time.Duration {
	if st.kind != "postgres" {
		return 0
	}
	var pids []int
	if err := st.db.WithContext(ctx).Raw("SELECT pid FROM pg_stat_activity WHERE datname = current_database()").Scan(&pids).Error; err != nil {
		return 0
	}
	var total time.Duration
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: state is the first, utime the 12th, stime the 13th.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		stt, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+stt) * time.Second / 100 // USER_HZ is 100 on Linux
	}
	return total
}

// category is one part of the request path; a sample goes to the category of the deepest frame of its
// stack that matches a rule (so a middleware gets its own work, and what it calls goes to the callee's
// category when that has one). Within a frame, the first matching rule wins.
type category struct {
	name string
	re   *regexp.Regexp
}

var categories = func() []category {
	rules := []struct{ name, re string }{
		{"load generator (client side, same process)", `^main\.\(\*loader\)|^net/http\.\(\*Transport\)|^net/http\.\(\*persistConn\)|^net/http\.\(\*Client\)|^net/http\.send$|^net/http\.persistConnWriter|^net/http\.\(\*http2`},
		{"net/http server (read request, write answer)", `^net/http\.\(\*conn\)\.serve$|^net/http\.\(\*connReader\)|^net/http\.\(\*conn\)\.readRequest`},
		{"echo: router, context, response", `^github\.com/labstack/echo/v4\.\(\*Echo\)\.ServeHTTP$`},
		{"bare handler", `^main\.bareHandler\.`},
		{"request id", `^github\.com/labstack/echo/v4/middleware\.RequestIDWithConfig\.func1\.1$|^github\.com/labstack/echo/v4/middleware\.(generator|randomString)`},
		{"logging (slog, text)", `^log/slog\.`},
		{"metrics (prometheus)", `^github\.com/prometheus/`},
		{"observe middleware (own)", `^switchboard/server\.observe\.|^switchboard/server\.clientGone`},
		{"recover middlewares", `^github\.com/labstack/echo/v4/middleware\.RecoverWithConfig\.`},
		{"harden (headers, body tracking)", `^switchboard/server\.harden\.|^switchboard/server\.trackBody|^switchboard/server\.\(\*trackedBody\)`},
		{"error mapper", `^switchboard/server\.mapErrors`},
		{"contract middleware (own)", `^switchboard/server\.contract\.func`},
		{"contract: route lookup (kin-openapi router)", `^switchboard/server\.\(\*guard\)\.find$`},
		{"contract: body cap", `^switchboard/server\.\(\*guard\)\.capBody$|^switchboard/server\.limitBodyTime$`},
		{"auth: identify (token, user cache), permissions", `^switchboard/server\.\(\*guard\)\.(authenticate|authorize)$|\.Identify$|\.userFromToken$|^switchboard/auth\.`},
		{"validation (kin-openapi, text checks)", `^switchboard/server\.\(\*guard\)\.validate$|^switchboard/server\.checkQuery$|^github\.com/getkin/kin-openapi/openapi3filter\.`},
		{"generated wrapper (path parameter binding)", `^switchboard/gen/ictcoreapi\.\(\*ServerInterfaceWrapper\)\.|^github\.com/oapi-codegen/runtime\.`},
		{"strict handler", `^switchboard/gen/ictcoreapi\.\(\*strictHandler\)\.`},
		{"JSON encode and write", `^switchboard/gen/ictcoreapi\.GetContact200JSONResponse\.Visit`},
		{"handler (own)", `^switchboard/handlers/ictcore\.\(\*Handler\)\.GetContact$|^switchboard/handlers/ictcore\.toAPIContact$|^switchboard/models/ictcore\.GetContact$`},
		{"store: GORM", `^gorm\.io/gorm`},
		{"store: database/sql", `^database/sql\.`},
		{"store: driver, engine (pgx / modernc sqlite)", `^github\.com/jackc/|^gorm\.io/driver/|^github\.com/glebarez/|^modernc\.org/`},
		{"runtime: GC (background, sweep, scavenge)", `^runtime\.gcBgMarkWorker$|^runtime\.bgsweep$|^runtime\.bgscavenge$|^runtime\.gcStart$`},
		{"runtime: scheduler, netpoll, timers", `^runtime\.mcall$|^runtime\.schedule$|^runtime\.findRunnable$|^runtime\.sysmon$|^runtime\.mstart|^runtime\.netpoll$|^runtime\.goexit0$|^runtime\.park_m$`},
	}
	out := make([]category, len(rules))
	for i, r := range rules {
		out[i] = category{r.name, regexp.MustCompile(r.re)}
	}
	return out
}()

const otherCategory = "other"

// breakdown reads a CPU profile's stacks (go tool pprof -traces) and answers each category's share of
// the samples.
func breakdown(file string) (map[string]float64, error) {
	cmd := exec.Command(goTool(), "tool", "pprof", "-traces", file)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go tool pprof -traces %s: %w: %s", file, err, bytes.TrimSpace(errb.Bytes()))
	}
	shares := map[string]float64{}
	var (
		total  float64
		value  float64
		frames []string
	)
	flush := func() {
		if len(frames) > 0 && value > 0 {
			shares[classify(frames)] += value
			total += value
		}
		frames, value = nil, 0
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			flush()
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if v, ok := parseDuration(f[0]); ok && len(f) >= 2 {
			// The first line of a stack: its value, then the leaf frame.
			flush()
			value, frames = v, []string{f[1]}
			continue
		}
		if value > 0 && len(f) == 1 {
			frames = append(frames, f[0])
		}
	}
	flush()
	if total == 0 {
		return nil, fmt.Errorf("%s: no samples", file)
	}
	for k := range shares {
		shares[k] /= total
	}
	return shares, sc.Err()
}

// classify answers the category of a stack, leaf first: that of its deepest matching frame.
func classify(frames []string) string {
	for _, fn := range frames {
		for _, c := range categories {
			if c.re.MatchString(fn) {
				return c.name
			}
		}
	}
	return otherCategory
}

// parseDuration reads pprof's sample values: 10ms, 1.20s, 500us.
func parseDuration(s string) (float64, bool) {
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"ms", 1e-3}, {"us", 1e-6}, {"µs", 1e-6}, {"ns", 1e-9}, {"s", 1}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, false
			}
			return v * u.scale, true
		}
	}
	return 0, false
}

// goTool is the go command on PATH: under go run (make bench) that is the toolchain that built this
// binary, as go run puts its own bin directory first on the program's PATH.
func goTool() string { return "go" }

// printProfiles shows, per store, the CPU time per request of each category for the bare handler and the
// full path: the CPU measured by getrusage over the phase, divided among the categories by the profile's
// samples. "extra" is what the full path costs beyond the bare handler.
func printProfiles(cfg config, dir string, res []profileResult) error {
	fmt.Printf("PROFILE  where the full path's CPU goes beyond the bare handler: GET /ictcore/contacts/{id}, %d workers, %.0f s per\n", cfg.workers, cfg.profileSecs)
	fmt.Printf("      handler under the CPU profiler (profiles kept in %s; go tool pprof -top FILE). CPU µs per request =\n", dir)
	fmt.Printf("      the child's CPU time (getrusage: server and load generator) ÷ requests, split by the profile's samples, each\n")
	fmt.Printf("      sample going to the deepest frame of its stack that a category claims; Postgres backends from /proc.\n\n")
	for _, r := range res {
		bare, err := breakdown(r.Bare.File)
		if err != nil {
			return err
		}
		full, err := breakdown(r.Full.File)
		if err != nil {
			return err
		}
		bareUS := r.Bare.CPUSeconds / float64(r.Bare.Requests) * 1e6
		fullUS := r.Full.CPUSeconds / float64(r.Full.Requests) * 1e6
		pgUS := r.Full.PGSeconds / float64(r.Full.Requests) * 1e6
		fmt.Printf("%s: bare %d req in %.1f s (%.0f req/s), %.1f µs CPU/req; full %d req in %.1f s (%.0f req/s), %.1f µs CPU/req",
			r.Store, r.Bare.Requests, r.Bare.Seconds, float64(r.Bare.Requests)/r.Bare.Seconds, bareUS,
			r.Full.Requests, r.Full.Seconds, float64(r.Full.Requests)/r.Full.Seconds, fullUS)
		if r.Store == "postgres" {
			fmt.Printf(" + %.1f µs in Postgres backends", pgUS)
		}
		fmt.Printf("\n      CPU-bound estimate of full/bare = bare CPU/req ÷ full CPU/req = %.2f\n\n", bareUS/(fullUS+pgUS))
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(w, "category\tbare µs/req\tfull µs/req\textra µs/req\tshare of extra\t")
		extraTotal := fullUS + pgUS - bareUS
		names := make([]string, 0, len(categories)+1)
		for _, c := range categories {
			names = append(names, c.name)
		}
		names = append(names, otherCategory)
		for _, name := range names {
			b, f := bare[name]*bareUS, full[name]*fullUS
			if b < 0.05 && f < 0.05 {
				continue
			}
			fmt.Fprintf(w, "%s\t%.1f\t%.1f\t%+.1f\t%.0f%%\t\n", name, b, f, f-b, 100*(f-b)/extraTotal)
		}
		if r.Store == "postgres" {
			fmt.Fprintf(w, "%s\t%.1f\t%.1f\t%+.1f\t%.0f%%\t\n", "Postgres backends (other processes)", 0.0, pgUS, pgUS, 100*pgUS/extraTotal)
		}
		fmt.Fprintf(w, "%s\t%.1f\t%.1f\t%+.1f\t%.0f%%\t\n", "total", bareUS, fullUS+pgUS, extraTotal, 100.0)
		w.Flush()
		fmt.Println()
	}
	return nil
}

// startCPUProfile writes this process's CPU profile to file until stop.
func startCPUProfile(file string) (stop func(), err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
