package main

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// listRounds: every list request is timed this many times, the requests taking turns, so drift on a
// shared machine falls on all of them alike; each figure is its median.
const listRounds = 21

// pageQuery is one list request measured over the imported rows.
type pageQuery struct {
	name, path string
	// check answers what is wrong with the answer's headers ("" when nothing is).
	check func(h http.Header) string
}

// Names of the list requests the printout and the targets refer to.
const (
	pageKeyset = "keyset 99% (baseline)"
	pageFirst  = "first page"
)

// timePages measures list pages over the imported rows (contact ids 1…rows). The baseline is a keyset
// page (after_contact_id) 99% of the way into the table; the first page without a count is the target;
// the first page with count=true and the offset page at the same depth are for information.
func timePages(c *apiClient, groupID int64, rows int) ([]pageTiming, []string, error) {
	deep := rows - rows/100 // 99% of the way in
	// A page has a next one (Link rel="next") when more than its 100 rows lie past where it starts.
	link := func(h http.Header, next bool) string {
		if got := strings.Contains(h.Get("Link"), `rel="next"`); got != next {
			return fmt.Sprintf(`Link rel="next" sent: %t, want %t`, got, next)
		}
		return ""
	}
	noCount := func(from int) func(http.Header) string {
		return func(h http.Header) string {
			if v := h.Get("X-Total-Count"); v != "" {
				return "X-Total-Count sent without count=true"
			}
			return link(h, rows-from > 100)
		}
	}
	counted := func(h http.Header) string {
		if v := h.Get("X-Total-Count"); v != strconv.Itoa(rows) {
			return fmt.Sprintf("X-Total-Count %q, want %d", v, rows)
		}
		return link(h, rows > 100)
	}
	queries := []pageQuery{
		{pageKeyset, fmt.Sprintf("/ictcore/contacts?limit=100&after_contact_id=%d", deep), noCount(deep)},
		{pageFirst, "/ictcore/contacts?limit=100", noCount(0)},
		{"first page, count=true", "/ictcore/contacts?limit=100&count=true", counted},
		{"offset 99%", fmt.Sprintf("/ictcore/contacts?limit=100&offset=%d", deep), noCount(deep)},
		{"group keyset 99%", fmt.Sprintf("/ictcore/groups/%d/contacts?limit=100&after_contact_id=%d", groupID, deep), noCount(deep)},
		{"phone suffix filter", "/ictcore/contacts?limit=100&phone=0000042", nil},
	}
	ms := make([][]float64, len(queries))
	var notes []string
	for round := -1; round < listRounds; round++ { // round -1 warms the caches up and checks the headers
		for i, q := range queries {
			var raw []byte
			start := time.Now()
			h, err := c.send("GET", q.path, "", nil, -1, &raw)
			el := time.Since(start)
			if err != nil {
				return nil, nil, err
			}
			if round < 0 {
				if q.check != nil {
					if msg := q.check(h); msg != "" {
						notes = append(notes, q.name+": "+msg)
					}
				}
				continue
			}
			ms[i] = append(ms[i], float64(el.Microseconds())/1000)
		}
	}
	out := make([]pageTiming, len(queries))
	for i, q := range queries {
		slices.Sort(ms[i])
		out[i] = pageTiming{Name: q.name, Ms: ms[i][len(ms[i])/2]}
	}
	return out, notes, nil
}

// printPages shows list latency over the imported rows, each as a ratio to the deep keyset page of the
// same child.
func printPages(res []importResult) {
	fmt.Printf("LISTS over the imported rows, after the HTTP import (GET /ictcore/contacts, limit=100; median of %d, the requests\n", listRounds)
	fmt.Printf("      taking turns; ratio = time ÷ keyset page 99%% deep (after_contact_id), timed in the same child;\n")
	fmt.Printf("      target: first page (no count) ≤ %.0f× the keyset page at 1M rows):\n\n", targetListRatio)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\trows\trequest\tms\tratio\ttarget\t")
	var notes []string
	for _, r := range res {
		if len(r.Pages) == 0 {
			continue
		}
		base := r.Pages[0].Ms
		for _, p := range r.Pages {
			t := ""
			if p.Name == pageFirst {
				t = fmt.Sprintf("≤ %.0f", targetListRatio)
				if r.Rows >= 1_000_000 {
					t += " " + verdict(p.Ms/base <= targetListRatio)
				} else {
					t += fmt.Sprintf(" (%s)", map[bool]string{true: "would be met", false: "would NOT be met"}[p.Ms/base <= targetListRatio])
				}
			}
			fmt.Fprintf(w, "%s\t%d\t%s\t%.2f\t%.1f\t%s\t\n", r.Store, r.Rows, p.Name, p.Ms, p.Ms/base, t)
		}
		for _, n := range r.Notes {
			notes = append(notes, fmt.Sprintf("%s %d rows: %s", r.Store, r.Rows, n))
		}
	}
	w.Flush()
	for _, n := range notes {
		fmt.Println("  CHECK FAILED:", n)
	}
	fmt.Println()
}
