package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
)

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

func byteSize(res []httpResult) string {
	if len(res) == 0 {
		return "?"
	}
	return fmt.Sprintf("%d bytes", res[0].BodyBytes)
}

func printImport(res []importResult) {
	fmt.Printf("CSV   import into one group: http = POST /ictcore/groups/{id}/csv streamed from a file on disk through the full\n")
	fmt.Printf("      stack (client and server in the child); direct = ictcore.ImportGroupContacts (the import's store path,\n")
	fmt.Printf("      batches of %d, no HTTP, CSV or validation), same rows; copy = psql \\copy of the same file into the contacts\n", batchSize)
	fmt.Printf("      table of a fresh migrated schema, same indexes (defaults for user_id and the times, phone_rev generated as\n")
	fmt.Printf("      reverse(phone): see benchCopy), no group links, run before and after the others and pooled; copy+links =\n")
	fmt.Printf("      that copy, then INSERT INTO contact_links … SELECT for the same rows (no foreign keys since migration 3), for\n")
	fmt.Printf("      information: the import's work done in SQL alone. Each run is a fresh child on a fresh store; peak RSS is\n")
	fmt.Printf("      the importing child's VmHWM (setup = VmHWM just before the import started).\n\n")
	type key struct {
		store string
		rows  int
	}
	byMode := map[string]map[key]importResult{"direct": {}, "copy": {}}
	for _, r := range res {
		m, ok := byMode[r.Mode]
		if !ok {
			continue
		}
		k := key{r.Store, r.Rows}
		if prev, ok := m[k]; ok && r.Mode == "copy" {
			// The copy runs before and after the others: pool the two.
			r.Seconds += prev.Seconds
			r.LinkSeconds += prev.LinkSeconds
			r.RowsPerSec = 2 * float64(r.Rows) / r.Seconds
			r.Seconds /= 2
			r.LinkSeconds /= 2
		}
		m[k] = r
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\trows\tfile MB\thttp rows/s\thttp time\thttp peak RSS\tsetup RSS\tdirect rows/s\tcopy rows/s\thttp/direct\thttp/copy\ttargets\tcopy+links rows/s\thttp/(copy+links)\t")
	peak := map[string][]importResult{}
	for _, r := range res {
		if r.Mode != "http" {
			continue
		}
		k := key{r.Store, r.Rows}
		d, hasDirect := byMode["direct"][k]
		cp, hasCopy := byMode["copy"][k]
		peak[r.Store] = append(peak[r.Store], r)
		var t []string
		directRate, httpDirect, copyRate, httpCopy, linkedRate, httpLinked := "", "", "", "", "", ""
		if hasDirect {
			directRate, httpDirect = fmt.Sprintf("%.0f", d.RowsPerSec), fmt.Sprintf("%.2f", r.RowsPerSec/d.RowsPerSec)
		}
		if hasCopy {
			ratio := r.RowsPerSec / cp.RowsPerSec
			copyRate, httpCopy = fmt.Sprintf("%.0f", cp.RowsPerSec), fmt.Sprintf("%.2f", ratio)
			t = append(t, fmt.Sprintf("http/copy ≥ %.1f %s", targetCopyRatio, verdict(ratio >= targetCopyRatio)))
			linked := float64(cp.Rows) / (cp.Seconds + cp.LinkSeconds)
			linkedRate, httpLinked = fmt.Sprintf("%.0f", linked), fmt.Sprintf("%.2f", r.RowsPerSec/linked)
		}
		if r.Rows >= 1_000_000 {
			t = append(t, fmt.Sprintf("RSS < %.0f MB %s", targetRSSMB, verdict(r.PeakRSSMB < targetRSSMB)))
		}
		fmt.Fprintf(w, "%s\t%d\t%.1f\t%.0f\t%s\t%.0f MB\t%.0f MB\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			r.Store, r.Rows, r.FileMB, r.RowsPerSec, secs(r.Seconds), r.PeakRSSMB, r.SetupRSSMB,
			directRate, copyRate, httpDirect, httpCopy, strings.Join(t, ", "), linkedRate, httpLinked)
	}
	w.Flush()
	fmt.Println()
	// Flatness: peak RSS of the smallest against the largest size, per store.
	for _, s := range []string{"sqlite", "postgres"} {
		rs := peak[s]
		if len(rs) < 2 {
			continue
		}
		a, b := rs[0], rs[len(rs)-1]
		grow := b.PeakRSSMB - a.PeakRSSMB
		fmt.Printf("peak RSS %s: %d rows %.0f MB → %d rows %.0f MB (%+.0f MB for %.0f× the rows; target: flat, within 10 MB: %s)\n",
			s, a.Rows, a.PeakRSSMB, b.Rows, b.PeakRSSMB, grow, float64(b.Rows)/float64(a.Rows), verdict(grow <= 10))
	}
	fmt.Println()
}
