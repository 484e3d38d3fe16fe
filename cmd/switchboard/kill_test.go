package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/models"
)

// TestKillDuringDelivery proves that killing a node loses and duplicates nothing (DESIGN §5) for ICTCore
// transmissions, with real processes on one Postgres store. Node A has a single worker. Transmission
// "held" is sent; A's worker is inside the HTTP SMS gateway's call (the fake SMSC holds the request) when
// A is killed. Transmission "queued" is sent meanwhile; its job cannot be taken (the only worker is busy),
// so it is still available when A dies. Node B then starts on the store with short rescue timings:
//   - held: River rescues the job; its run finds the attempt started, so it is recorded failed,
//     interrupted, and not retried: the SMSC saw exactly one request for it.
//   - queued: B delivers it once: one request, completed.
//
// The verdict waits for outcomes by polling; it never depends on timing.
func TestKillDuringDelivery(t *testing.T) {
	if !slices.Contains(apitest.Kinds(t), "postgres") {
		t.Skip("Postgres is unreachable")
	}
	url := apitest.EmptyStoreURL(t, "postgres")
	const heldPhone, queuedPhone = "+15550101", "+15550102"
	smsc := newFakeSMSC(t, 1) // the held transmission's request: the queued one is sent only once it is held

	// One worker, so that the held attempt keeps it busy and the second job stays in the queue.
	a := startServing(t, url, "QUEUE_WORKERS=1")
	api := login(t, a)
	program := api.smsProgram(t, smsc)
	held := api.create(t, "/transmissions", map[string]any{"program_id": program, "phone": heldPhone}, "transmission_id")
	queued := api.create(t, "/transmissions", map[string]any{"program_id": program, "phone": queuedPhone}, "transmission_id")

	heldSpool := api.send(t, held)
	if to := smsc.waitHeld(t, a); to != heldPhone {
		t.Fatalf("the SMSC held a request for %s, want %s", to, heldPhone)
	}
	queuedSpool := api.send(t, queued)
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = a.wait() // killed: "signal: killed"

	db, err := models.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	// What A left: the held job running (attempted once), the queued one never taken.
	if j := deliverJob(t, db, heldSpool); j.State != "running" || j.Attempt != 1 {
		t.Fatalf("held job after the kill: %+v, want running, attempt 1", j)
	}
	if j := deliverJob(t, db, queuedSpool); j.State != "available" || j.Attempt != 0 {
		t.Fatalf("queued job after the kill: %+v, want available, attempt 0", j)
	}

	// B takes a running job for lost after 6 s; jobs may run 5 s (they take milliseconds here).
	b := startServing(t, url, "QUEUE_JOB_TIMEOUT=5", "QUEUE_RESCUE_AFTER=6")
	api = login(t, b)
	// Done when both transmissions are final and no job is left to run: from then on nothing can send.
	// River rescues only on its leader: B becomes it once A's leadership has expired (9 to 15 s after
	// the kill, B trying every 5 s); its rescuer looks at once, then every 30 s, and the rescued job runs
	// when the scheduler next looks (every 5 s). Some 20 s in all, well under the deadline.
	poll(t, b, 2*time.Minute, func() (bool, string) {
		hs, qs := api.status(t, held), api.status(t, queued)
		unfinished := unfinishedJobs(t, db)
		return final(hs) && final(qs) && unfinished == 0,
			fmt.Sprintf("held %s, queued %s, %d unfinished jobs", hs, qs, unfinished)
	})

	if got := smsc.requests(); got[heldPhone] != 1 || got[queuedPhone] != 1 || len(got) != 2 {
		t.Errorf("SMSC requests by recipient: %v, want one each for %s and %s", got, heldPhone, queuedPhone)
	}

	tx := api.transmission(t, held)
	spools := api.spools(t, held)
	if tx.Status != "failed" || tx.TryDone != 1 || !strings.Contains(tx.Response, "interrupted") {
		t.Errorf("held transmission: %+v, want failed after 1 try, response saying interrupted", tx)
	}
	if len(spools) != 1 || spools[0].SpoolID != heldSpool || spools[0].Status != "failed" ||
		spools[0].StatusDetail != "failed" || spools[0].Response != "interrupted" {
		t.Errorf("held spools: %+v, want the one attempt failed, interrupted", spools)
	}
	tx = api.transmission(t, queued)
	spools = api.spools(t, queued)
	if tx.Status != "completed" || tx.TryDone != 1 {
		t.Errorf("queued transmission: %+v, want completed after 1 try", tx)
	}
	if len(spools) != 1 || spools[0].SpoolID != queuedSpool || spools[0].Status != "completed" {
		t.Errorf("queued spools: %+v, want the one attempt completed", spools)
	}

	// The held job ran twice (A, then the rescue) and ended; no automatic retry was ever queued.
	if j := deliverJob(t, db, heldSpool); j.State != "completed" || j.Attempt != 2 {
		t.Errorf("held job: %+v, want completed on attempt 2", j)
	}
	if j := deliverJob(t, db, queuedSpool); j.State != "completed" || j.Attempt != 1 {
		t.Errorf("queued job: %+v, want completed on attempt 1", j)
	}
	var retries int64
	if err := db.Raw("SELECT COUNT(*) FROM river_job WHERE kind = 'ictcore_retry'").Scan(&retries).Error; err != nil {
		t.Fatal(err)
	}
	if retries != 0 {
		t.Errorf("%d automatic retries queued, want none", retries)
	}
}

// TestQueueTimingsRefused: a rescue window that does not exceed the job timeout is refused at start,
// the defaults included, since River would run jobs still under way a second time.
func TestQueueTimingsRefused(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		ok   bool
	}{
		{nil, true},
		{map[string]string{"QUEUE_JOB_TIMEOUT": "2", "QUEUE_RESCUE_AFTER": "3"}, true},
		{map[string]string{"QUEUE_JOB_TIMEOUT": "3", "QUEUE_RESCUE_AFTER": "3"}, false},
		{map[string]string{"QUEUE_RESCUE_AFTER": "60"}, false}, // under the default job timeout
		{map[string]string{"QUEUE_JOB_TIMEOUT": "600"}, false}, // over the default rescue window
	} {
		_, err := queueConfig(env(c.vars))
		if (err == nil) != c.ok {
			t.Errorf("%v: error %v, want ok %v", c.vars, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "QUEUE_RESCUE_AFTER") {
			t.Errorf("%v: error %q does not name the setting", c.vars, err)
		}
	}
}

// adminPassword is the admin's password on the nodes of these tests.
const adminPassword = "kill-test-admin"

// startServing starts a node (see startNode) with a known admin password, signals it to start and waits
// until it is ready.
func startServing(t *testing.T, dbURL string, env ...string) *node {
	t.Helper()
	n := startNode(t, dbURL, append([]string{"ADMIN_PASSWORD=" + adminPassword}, env...)...)
	if _, err := n.stdin.Write([]byte("\n")); err != nil {
		t.Fatal(err)
	}
	n.waitReady(t)
	return n
}

// poll calls done until it answers true, failing the test with its last description past the deadline
// or when node n exits meanwhile.
func poll(t *testing.T, n *node, deadline time.Duration, done func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		ok, what := done()
		if ok {
			return
		}
		select {
		case <-n.exited:
			t.Fatalf("node exited (%v) while waiting: %s\n%s", n.exitErr, what, n.output())
		default:
		}
		if time.Now().After(end) {
			t.Fatalf("still waiting after %s: %s\n%s", deadline, what, n.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func final(status string) bool {
	return status == "completed" || status == "failed" || status == "invalid"
}

// unfinishedJobs counts the store's jobs not yet ended: while there are none, no node can send anything.
func unfinishedJobs(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM river_job WHERE finalized_at IS NULL").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// fakeSMSC is an HTTP SMS gateway that counts requests by recipient, and holds its hold-th request (none
// when 0) until the test ends (or its client goes away), so that a node is inside the gateway's call. Every
// other request is accepted at once.
type fakeSMSC struct {
	*httptest.Server
	mu      sync.Mutex
	got     map[string]int
	total   int
	heldTo  string        // the held request's recipient, set before arrived is closed
	arrived chan struct{} // closed when the held request arrives
}

func newFakeSMSC(t *testing.T, hold int) *fakeSMSC {
	f := &fakeSMSC{got: map[string]int{}, arrived: make(chan struct{})}
	release := make(chan struct{})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		f.mu.Lock()
		f.got[to]++
		f.total++
		held := f.total == hold
		if held {
			f.heldTo = to
		}
		f.mu.Unlock()
		if held {
			close(f.arrived)
			select {
			case <-release:
			case <-r.Context().Done(): // the node was killed
			}
			return
		}
		fmt.Fprint(w, "0: Accepted for delivery")
	}))
	t.Cleanup(f.Close)
	t.Cleanup(func() { close(release) }) // runs before Close, which waits for handlers
	return f
}

// waitHeld waits until the held request has arrived, and answers its recipient: node n is inside the
// gateway's call.
func (f *fakeSMSC) waitHeld(t *testing.T, n *node) string {
	t.Helper()
	select {
	case <-f.arrived:
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.heldTo
	case <-n.exited:
		t.Fatalf("node exited (%v) before the gateway was called\n%s", n.exitErr, n.output())
	case <-time.After(2 * time.Minute):
		t.Fatalf("the gateway was never called\n%s", n.output())
	}
	return ""
}

func (f *fakeSMSC) requests() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.got)
}

// riverJob is a River job's state, read from the store.
type riverJob struct {
	State   string
	Attempt int
}

// deliverJob answers the state of the delivery job of spool id.
func deliverJob(t *testing.T, db *gorm.DB, spool int64) riverJob {
	t.Helper()
	var jobs []riverJob
	err := db.Raw("SELECT j.state, j.attempt FROM river_job j JOIN spools s ON s.job_id = j.id WHERE j.kind = 'ictcore_deliver' AND s.spool_id = ?", spool).
		Scan(&jobs).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("%d delivery jobs for spool %d, want 1", len(jobs), spool)
	}
	return jobs[0]
}

// ictcoreClient calls a node's ICTCore API as admin.
type ictcoreClient struct {
	base, token string
}

func login(t *testing.T, n *node) *ictcoreClient {
	t.Helper()
	c := &ictcoreClient{base: "http://" + n.addr + "/ictcore"}
	var out struct{ Token string }
	c.call(t, "POST", "/authenticate", map[string]any{"username": "admin", "password": adminPassword}, &out)
	if out.Token == "" {
		t.Fatal("authenticate answered no token")
	}
	c.token = out.Token
	return c
}

// call sends body (nil: none) as JSON and decodes the answer into out (nil: ignored); any status but 200
// fails the test.
func (c *ictcoreClient) call(t *testing.T, method, path string, body, out any) {
	t.Helper()
	if body == nil {
		c.do(t, method, path, "", nil, out)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	c.do(t, method, path, "application/json", bytes.NewReader(b), out)
}

// do sends body (nil: none) of type contentType and decodes the JSON answer into out (nil: ignored); any
// status but 200 fails the test.
func (c *ictcoreClient) do(t *testing.T, method, path, contentType string, body io.Reader, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// create posts body and answers the new id, the answer's field.
func (c *ictcoreClient) create(t *testing.T, path string, body any, field string) int64 {
	t.Helper()
	var out map[string]int64
	c.call(t, "POST", path, body, &out)
	if out[field] <= 0 {
		t.Fatalf("POST %s answered no %s: %v", path, field, out)
	}
	return out[field]
}

// smsProgram creates an active HTTP SMS provider sending through smsc, and a sendsms program of a text;
// it answers the program's id.
func (c *ictcoreClient) smsProgram(t *testing.T, smsc *fakeSMSC) int64 {
	t.Helper()
	c.create(t, "/providers", map[string]any{"name": "smsc", "type": "http", "settings": jsonText(t,
		map[string]any{"url": smsc.URL + "/send?to={to}&text={text}", "success": "Accepted"})}, "provider_id")
	text := c.create(t, "/messages/texts", map[string]any{"name": "t", "data": "hello"}, "text_id")
	return c.create(t, "/programs/sendsms", map[string]any{"name": "sms", "text_id": text}, "program_id")
}

// send starts an attempt of a transmission and answers its spool id.
func (c *ictcoreClient) send(t *testing.T, id int64) int64 {
	t.Helper()
	return c.create(t, fmt.Sprintf("/transmissions/%d/send", id), nil, "spool_id")
}

func (c *ictcoreClient) status(t *testing.T, id int64) string {
	t.Helper()
	var out struct{ Status string }
	c.call(t, "GET", fmt.Sprintf("/transmissions/%d/status", id), nil, &out)
	return out.Status
}

type transmission struct {
	TransmissionID int64 `json:"transmission_id"`
	ContactID      int64 `json:"contact_id"`
	Status         string
	Response       string
	TryDone        int `json:"try_done"`
}

func (c *ictcoreClient) transmission(t *testing.T, id int64) transmission {
	t.Helper()
	var out transmission
	c.call(t, "GET", fmt.Sprintf("/transmissions/%d", id), nil, &out)
	return out
}

type spool struct {
	SpoolID      int64 `json:"spool_id"`
	Status       string
	StatusDetail string `json:"status_detail"`
	Response     string
}

// spools answers a transmission's attempts (its detail).
func (c *ictcoreClient) spools(t *testing.T, id int64) []spool {
	t.Helper()
	var out []spool
	c.call(t, "GET", fmt.Sprintf("/transmissions/%d/detail", id), nil, &out)
	return out
}

// jsonText answers v as JSON text (a provider's settings are a JSON document in a string).
func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
